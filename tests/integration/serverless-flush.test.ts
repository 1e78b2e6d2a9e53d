import { afterEach, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { apiRequests, apiUsageDaily } from "@/db/schema";
import { GET as me } from "@/app/api/v1/me/route";
import { flushUsage } from "@/lib/api-keys/usage";
import { bufferedRequestLogEntries, flushRequestLog } from "@/lib/audit/request-log";
import { afterWorkSettled } from "@/lib/http/after";
import { resetEnvCache } from "@/lib/env";
import { withTestOrg } from "../helpers/fixture";
import { call, makeKey } from "../helpers/api";

const t = withTestOrg();

// In serverless mode an instance may be frozen as soon as it has answered: the request log and
// the usage counters must be written by the work that runs after each response (Next.js
// `after`), not on a timer that a frozen instance never reaches.

const SERVERLESS = { QSTASH_TOKEN: "test-token", QSTASH_CURRENT_SIGNING_KEY: "current", QSTASH_NEXT_SIGNING_KEY: "next", APP_URL: "https://smarfle.example" };

afterEach(async () => {
  for (const k of Object.keys(SERVERLESS)) delete process.env[k];
  resetEnvCache();
  await Promise.all([flushRequestLog(t.db), flushUsage(t.db)]);
});

async function calls() {
  const rows = await t.db
    .select()
    .from(apiUsageDaily)
    .where(and(eq(apiUsageDaily.orgId, t.org.org.id)));
  return rows.reduce((n, r) => n + Number(r.calls), 0);
}

describe("request log and usage in serverless mode", () => {
  it("are written by the work after each response", async () => {
    const { key } = await makeKey(t.db, t.org, ["read"]);
    await Promise.all([flushRequestLog(t.db), flushUsage(t.db)]);
    const before = await calls();
    Object.assign(process.env, SERVERLESS);
    resetEnvCache();
    const res = await call(me, { key });
    expect(res.status).toBe(200);
    await afterWorkSettled();
    expect(bufferedRequestLogEntries()).toBe(0);
    expect(
      await t.db
        .select()
        .from(apiRequests)
        .where(eq(apiRequests.id, res.headers.get("x-request-id")!)),
    ).toHaveLength(1);
    expect(await calls()).toBe(before + 1);
  });
});
