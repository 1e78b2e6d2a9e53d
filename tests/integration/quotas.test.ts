import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, count, eq } from "drizzle-orm";
import { auditLog, connectors, inboundSources, workflowRules } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as sources from "@/app/api/v1/inbound-sources/route";
import * as connectorsRoute from "@/app/api/v1/connectors/route";
import { ORG_ACTIONS } from "@/lib/actions";
import { createRule } from "@/lib/workflows/rules";
import { PLANS } from "@/lib/orgs/plans";
import { planUsage } from "@/lib/orgs/service";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];
let restoreEnv: () => void;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  restoreEnv = allowPrivateUrls();
});

afterAll(async () => {
  restoreEnv();
  await dropTestOrgs(db, orgs);
  await handle.close();
});

const mapping = { target: "client", external_id: "id", fields: { name: "name" } };
const rule = (i: number) => ({
  name: `Rule ${i}`,
  enabled: true,
  record_type: "client",
  trigger: "created",
  actions: [{ type: "set_field", target: "self", field: "source", value: "rule" }],
});

async function starterOrg() {
  const org = await createTestOrg(db, { plan: "starter" });
  orgs.push(org);
  return { org, key: (await makeKey(db, org, ["admin"])).key };
}

const rows = async (table: typeof inboundSources | typeof connectors | typeof workflowRules, orgId: string) =>
  (await db.select({ n: count() }).from(table).where(eq(table.orgId, orgId)))[0]!.n;

describe("per-plan quotas on inbound sources, connectors and workflow rules", () => {
  it("states Starter 3/3/10, Pro 20/20/100, Business 1,000 each", () => {
    expect([PLANS.starter, PLANS.pro, PLANS.business].map((p) => [p.maxInboundSources, p.maxConnectors, p.maxWorkflowRules])).toEqual([
      [3, 3, 10],
      [20, 20, 100],
      [1000, 1000, 1000],
    ]);
  });

  it("refuses the 4th inbound source of a Starter org with 403 plan_limit_reached, over the API and in the app, writing nothing", async () => {
    const { org, key } = await starterOrg();
    for (let i = 0; i < 3; i++) expect((await call(sources.POST, { method: "POST", key, body: { name: `S${i}`, kind: "shopify", mapping } })).status).toBe(201);
    const api = await call(sources.POST, { method: "POST", key, body: { name: "S4", kind: "shopify", mapping } });
    expect(api.status).toBe(403);
    expect(api.body).toMatchObject({
      error: { code: "plan_limit_reached", message: "Your Starter plan allows 3 inbound sources. Delete one or upgrade the plan to add more." },
    });
    const ui = await ORG_ACTIONS.createSourceAction.invoke(org.users.admin.id, {
      org: org.org.slug,
      name: "S5",
      kind: "shopify",
      mapping: JSON.stringify(mapping),
    });
    expect(ui).toMatchObject({ ok: false, error: { code: "plan_limit_reached" } });
    expect(await rows(inboundSources, org.org.id)).toBe(3);
    const [audited] = await db
      .select({ n: count() })
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.action, "inbound_source.created")));
    expect(audited!.n).toBe(3);
    expect(await planUsage(db, org.org.id)).toMatchObject({ inboundSources: 3, connectors: 0, workflowRules: 0 });
  });

  it("refuses the 4th connector and the 11th workflow rule of a Starter org", async () => {
    const { org, key } = await starterOrg();
    const body = (i: number) => ({
      name: `C${i}`,
      url: "http://127.0.0.1:9/items",
      headers: {},
      interval_minutes: 60,
      records_path: "items",
      pagination: { type: "none" },
      mapping,
    });
    for (let i = 0; i < 3; i++) expect((await call(connectorsRoute.POST, { method: "POST", key, body: body(i) })).status).toBe(201);
    const fourth = await call(connectorsRoute.POST, { method: "POST", key, body: body(4) });
    expect(fourth).toMatchObject({ status: 403, body: { error: { code: "plan_limit_reached", message: expect.stringMatching(/allows 3 connectors/) } } });
    expect(await rows(connectors, org.org.id)).toBe(3);

    for (let i = 0; i < 10; i++) await createRule(db, org.ctx, rule(i), null);
    await expect(createRule(db, org.ctx, rule(10), null)).rejects.toMatchObject({
      code: "plan_limit_reached",
      message: expect.stringMatching(/allows 10 workflow rules/),
    });
    const ui = await ORG_ACTIONS.createWorkflowAction.invoke(org.users.admin.id, { org: org.org.slug, rule: JSON.stringify(rule(11)) });
    expect(ui).toMatchObject({ ok: false, error: { code: "plan_limit_reached" } });
    expect(await rows(workflowRules, org.org.id)).toBe(10);
  });

  it("holds under concurrent creation: the last place is taken once", async () => {
    const { org, key } = await starterOrg();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call(sources.POST, { method: "POST", key, body: { name: `P${i}`, kind: "shopify", mapping } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 403)).toHaveLength(3);
    expect(await rows(inboundSources, org.org.id)).toBe(3);
  });
});
