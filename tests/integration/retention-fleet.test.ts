import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomInt } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { apiRequests, auditLog, scheduledRuns } from "@/db/schema";
import type { DbHandle } from "@/db/client";
import { newId } from "@/lib/ids";
import { runHourlyRetention } from "@/lib/audit/retention";
import { createTestOrg, dropTestOrgs, openTestDb, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";

/**
 * Every server looks every few minutes; the hour's retention run happens once across them all.
 * Two connection pools stand for two servers on PostgreSQL (one database handle on PGlite).
 */
let handle: DbHandle;
let second: DbHandle;
let org: TestOrg;

beforeAll(async () => {
  handle = await useTestDb();
  second = usingPostgres ? await openTestDb() : handle;
  org = await createTestOrg(handle.db);
});

afterAll(async () => {
  await dropTestOrgs(handle.db, [org]);
  if (second !== handle) await second.close();
  await handle.close();
});

describe(`hourly retention across servers (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("runs once per hour whichever servers ask, and leaves one audit entry for the org", async () => {
    // An hour of its own, far from the real clock, so no other run of this suite claims it.
    const hour = new Date(Date.UTC(2200 + randomInt(500), randomInt(12), 1 + randomInt(28), randomInt(24), 0, 0));
    const old = newId("req");
    await handle.db
      .insert(apiRequests)
      .values({ id: old, orgId: org.org.id, method: "GET", path: "/old", status: 200, durationMs: 1, createdAt: new Date(Date.now() - 40 * 86_400_000) });

    const within = (minutes: number) => new Date(hour.getTime() + minutes * 60_000);
    const runs = await Promise.all([
      runHourlyRetention(handle.db, within(1)),
      runHourlyRetention(second.db, within(1)),
      runHourlyRetention(handle.db, within(30)),
      runHourlyRetention(second.db, within(59)),
    ]);
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    expect(await handle.db.select().from(apiRequests).where(eq(apiRequests.id, old))).toHaveLength(0);

    const entries = await handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.action, "retention.enforced")));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorType: "system", actorLabel: "retention", source: "system" });
    expect(entries[0]!.after).toMatchObject({ api_requests: 1 });

    const [record] = await handle.db
      .select()
      .from(scheduledRuns)
      .where(and(eq(scheduledRuns.job, "retention"), eq(scheduledRuns.slot, hour)));
    expect(record?.finishedAt).toBeInstanceOf(Date);

    // The next hour is a new slot: it runs again (with nothing left to remove, no new entry).
    const next = await runHourlyRetention(second.db, within(61));
    expect(next.ran).toBe(true);
    const after = await handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.action, "retention.enforced")));
    expect(after).toHaveLength(1);
  });
});
