import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db, DbHandle } from "@/db/client";
import * as hooks from "@/app/api/v1/webhooks/route";
import * as hookTest from "@/app/api/v1/webhooks/[id]/test/route";
import * as connectorsRoute from "@/app/api/v1/connectors/route";
import * as runNow from "@/app/api/v1/connectors/[id]/run/route";
import { ORG_ACTIONS } from "@/lib/actions";
import { OUTBOUND_LIMITS } from "@/lib/rate-limit/outbound";
import { connectorRunsSettled } from "@/lib/connectors/run";
import { afterWorkSettled } from "@/lib/http/after";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";
import { startReceiver } from "../helpers/receiver";
import { insideOneWindow } from "../helpers/window";

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];
let restoreEnv: () => void;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  receiver = await startReceiver((req) => ({
    status: 200,
    body: req.body.startsWith("{") ? "ok" : JSON.stringify({ items: [] }),
    headers: { "content-type": "application/json" },
  }));
});

afterAll(async () => {
  await afterWorkSettled();
  await connectorRunsSettled();
  await receiver.close();
  restoreEnv();
  await dropTestOrgs(db, orgs);
  await handle.close();
});

async function orgWithKey() {
  const org = await createTestOrg(db, { plan: "pro" });
  orgs.push(org);
  return { org, key: (await makeKey(db, org, ["admin"])).key };
}

describe("no outbound cannon", () => {
  it("limits test events per organization, over the API and in the app alike, with 429 and Retry-After", { timeout: 90_000 }, async () => {
    const { org, key } = await orgWithKey();
    const endpoint = await call(hooks.POST, { method: "POST", key, body: { url: receiver.url, event_types: ["client_created"] } });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    const id = endpoint.body.id as string;
    const before = receiver.received.length;
    const limit = OUTBOUND_LIMITS.test_event.perMinute;
    await insideOneWindow(20);
    for (let i = 0; i < limit - 1; i++) expect((await call(hookTest.POST, { method: "POST", key, params: { id } })).status).toBe(200);
    const ui = await ORG_ACTIONS.sendTestWebhookAction.invoke(org.users.admin.id, { org: org.org.slug, id, eventType: "client_created" });
    expect(ui.ok).toBe(true);
    const refused = await call(hookTest.POST, { method: "POST", key, params: { id } });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: "rate_limited", message: expect.stringContaining(`${limit} test events per minute`) } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const uiRefused = await ORG_ACTIONS.sendTestWebhookAction.invoke(org.users.admin.id, { org: org.org.slug, id, eventType: "client_created" });
    expect(uiRefused).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect(receiver.received.length - before).toBe(limit);

    // Another organization is not held back.
    const other = await orgWithKey();
    const otherEndpoint = await call(hooks.POST, { method: "POST", key: other.key, body: { url: receiver.url, event_types: ["client_created"] } });
    expect((await call(hookTest.POST, { method: "POST", key: other.key, params: { id: otherEndpoint.body.id as string } })).status).toBe(200);
  });

  it("limits connector runs started by hand per organization", { timeout: 90_000 }, async () => {
    const { org, key } = await orgWithKey();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(connectorsRoute.POST, {
        method: "POST",
        key,
        body: {
          name: `C${i}`,
          url: receiver.url.replace("/hook", "/items"),
          headers: {},
          interval_minutes: 60,
          records_path: "items",
          mapping: { target: "client", fields: { name: "name" } },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id as string);
    }
    const limit = OUTBOUND_LIMITS.connector_run.perMinute;
    await insideOneWindow(30);
    for (let i = 0; i < limit; i++) {
      const res = await call(runNow.POST, { method: "POST", key, params: { id: ids[i % 3]! } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await afterWorkSettled();
      await connectorRunsSettled();
    }
    const refused = await call(runNow.POST, { method: "POST", key, params: { id: ids[0]! } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    const ui = await ORG_ACTIONS.runConnectorAction.invoke(org.users.admin.id, { org: org.org.slug, id: ids[1]! });
    expect(ui).toMatchObject({ ok: false, error: { code: "rate_limited" } });
  });
});
