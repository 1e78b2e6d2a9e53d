import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { clients, webhookEndpoints } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as hooks from "@/app/api/v1/webhooks/route";
import * as hook from "@/app/api/v1/webhooks/[id]/route";
import * as events from "@/app/api/v1/events/route";
import * as records from "@/app/api/v1/records/[type]/route";
import * as meRoute from "@/app/api/v1/me/route";
import { ORG_ACTIONS } from "@/lib/actions";
import { closestField } from "@/lib/unknown-fields";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["admin"])).key;
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  await handle.close();
  restoreEnv();
});

type ErrorBody = { error: { code: string; details: { path: string; message: string }[] } };
const details = (body: Record<string, unknown>) => (body as unknown as ErrorBody).error.details;

describe("unknown fields are refused, each named, with a guess", () => {
  it("POST /api/v1/webhooks with `events` (for event_types) is a 400 that subscribes nothing", async () => {
    const res = await call(hooks.POST, { method: "POST", key, body: { url: "https://example.com/hook", events: ["client_created"], colour: "red" } });
    expect(res.status).toBe(400);
    expect((res.body as unknown as ErrorBody).error.code).toBe("validation_failed");
    expect(details(res.body)).toEqual([
      { path: "events", message: "is not a known field: did you mean `event_types`?" },
      { path: "colour", message: "is not a known field" },
    ]);
    expect(await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, org.org.id))).toHaveLength(0);
  });

  it("refuses unknown fields in nested objects, on PATCH, in queries and in record bodies", async () => {
    const nested = await call(hooks.POST, {
      method: "POST",
      key,
      body: { url: "https://example.com/hook", filter: [{ field: "data.status", op: "equals", vaule: "paid" }] },
    });
    expect(details(nested.body)).toContainEqual({ path: "filter.0.vaule", message: "is not a known field: did you mean `value`?" });

    const made = await call(hooks.POST, { method: "POST", key, body: { url: "http://127.0.0.1:9/strict" } });
    expect(made.status).toBe(201);
    const patched = await call(hook.PATCH, { method: "PATCH", key, params: { id: made.body.id as string }, body: { enabeld: false } });
    expect(patched.status).toBe(400);
    expect(details(patched.body)).toEqual([{ path: "enabeld", message: "is not a known field: did you mean `enabled`?" }]);

    const query = await call(events.GET, { key, path: "/api/v1/events?afterr=evt_x&limit=5" });
    expect(query.status).toBe(400);
    expect(details(query.body)).toEqual([{ path: "afterr", message: "is not a known field: did you mean `after`?" }]);

    const me = await call(meRoute.GET, { key, path: "/api/v1/me?verbose=1" });
    expect(me.status).toBe(400);
    expect(details(me.body)).toEqual([{ path: "verbose", message: "is not a known field" }]);

    const rec = await call(records.POST, {
      method: "POST",
      key,
      path: "/api/v1/records/client",
      params: { type: "client" },
      body: { name: "Typo", emial: "t@example.com" },
    });
    expect(rec.status).toBe(400);
    expect(details(rec.body)).toContainEqual({ path: "emial", message: "is not a known field: did you mean `email`?" });
    expect(await db.select().from(clients).where(eq(clients.orgId, org.org.id))).toHaveLength(0);
  });

  it("refuses unknown fields in server actions' inputs", async () => {
    const res = await ORG_ACTIONS.createWebhookAction.invoke(org.users.owner.id, { org: org.org.slug, url: "https://example.com/ui", event: "client_created" });
    expect(res).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    if (!res.ok) expect(res.error.details).toContainEqual({ path: "event", message: "is not a known field: did you mean `events`?" });
  });

  it("guesses only when a known field is close", () => {
    expect(closestField("events", ["url", "event_types", "filter"])).toBe("event_types");
    expect(closestField("descripton", ["url", "description"])).toBe("description");
    expect(closestField("colour", ["url", "event_types", "filter"])).toBeNull();
    expect(closestField("id", ["url"])).toBeNull();
  });
});
