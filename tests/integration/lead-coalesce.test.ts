import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { auditLog, clients, notifications, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { POST } from "@/app/api/webhook/leads/route";
import { createRecordCoalesced } from "@/lib/records/coalesce";
import { createTestOrg, dropTestOrgs, setRecordCount, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
});

async function newOrg(plan: "starter" | "business") {
  const o = await createTestOrg(db, { plan });
  orgs.push(o);
  return o;
}

describe("concurrent leads share transactions (group commit) with the outcome of one each", () => {
  it("gives every concurrent lead its own client, audit row and events, and coalesces their notifications", async () => {
    const org = await newOrg("business");
    const { key } = await makeKey(db, org, ["leads"], "site");
    const n = 30;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        POST(
          new Request("http://127.0.0.1/api/webhook/leads", {
            method: "POST",
            body: JSON.stringify({ name: `Lead ${i}`, email: `l${i}@example.com` }),
            headers: { "content-type": "application/json", "x-api-key": key, ...fromRandomIp() },
          }),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(n).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(bodies.map((b) => b.name)).toEqual(Array.from({ length: n }, (_, i) => `Lead ${i}`));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(n);
    const rows = await db.select().from(clients).where(eq(clients.orgId, org.org.id));
    expect(rows).toHaveLength(n);
    // They did share transactions: a batch stamps its records with one time.
    expect(new Set(rows.map((r) => r.createdAt.getTime())).size).toBeLessThan(n);
    expect(
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.targetType, "client"))),
    ).toHaveLength(n);
    expect(await db.select().from(webhookEvents).where(eq(webhookEvents.orgId, org.org.id))).toHaveLength(2 * n);
    const notes = await db.select().from(notifications).where(eq(notifications.orgId, org.org.id));
    // Three members; leads arriving within a minute coalesce into one notification each.
    expect(notes).toHaveLength(3);
    expect(notes.map((x) => [x.count, x.title])).toEqual(Array(3).fill([n, `${n} new leads`]));
  });

  it("puts the creates that arrive in one turn of the event loop into one batch, the first one included", async () => {
    const org = await newOrg("business");
    const made = await Promise.all(Array.from({ length: 25 }, (_, i) => createRecordCoalesced(org.ctx, "client", { name: `Turn ${i}` })));
    expect(new Set(made.map((r) => r.id)).size).toBe(25);
    const rows = await db.select().from(clients).where(eq(clients.orgId, org.org.id));
    expect(new Set(rows.map((r) => r.createdAt.getTime())).size).toBe(1);
  });

  it("keeps a bad record's failure to itself", async () => {
    const org = await newOrg("business");
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => createRecordCoalesced(org.ctx, "client", i === 5 ? { email: "no-name@example.com" } : { name: `C${i}` })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(11);
    expect(outcomes[5]).toMatchObject({ status: "rejected", reason: { code: "validation_failed" } });
  });

  it("stays exact at the plan limit under concurrency", async () => {
    const org = await newOrg("starter");
    await setRecordCount(db, org.org.id, 995);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createRecordCoalesced(org.ctx, "client", { name: `Near ${i}` })));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
    expect(outcomes.filter((o) => o.status === "rejected").every((o) => (o as PromiseRejectedResult).reason.code === "plan_limit_reached")).toBe(true);
    expect(await db.select().from(clients).where(eq(clients.orgId, org.org.id))).toHaveLength(5);
  });
});
