import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import * as hooks from "@/app/api/v1/webhooks/route";
import * as hook from "@/app/api/v1/webhooks/[id]/route";
import * as hookTest from "@/app/api/v1/webhooks/[id]/test/route";
import * as events from "@/app/api/v1/events/route";
import * as eventTypes from "@/app/api/v1/event-types/route";
import { withTestOrg } from "../helpers/fixture";
import { call } from "../helpers/api";
import { startReceiver } from "../helpers/receiver";
import { expectConforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";
import { allowPrivateUrls } from "../helpers/env";
import { feedWhen } from "../helpers/feed";

const t = withTestOrg({ plan: "business", scopes: ["admin"] });

let restoreEnv: () => void;
let doc: OpenApiDoc;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  doc = await loadDocument();
});

afterAll(async () => {
  restoreEnv();
});

describe("webhooks over the API (REST hooks)", () => {
  it("subscribes, looks up by URL, tests, changes and unsubscribes idempotently", async () => {
    const receiver = await startReceiver();
    try {
      const created = await call(hooks.POST, {
        method: "POST",
        key: t.key,
        body: { url: receiver.url, event_types: ["client_created"], description: "Zap 1" },
      });
      expect(created.status).toBe(201);
      expectConforms(doc, "post", "/api/v1/webhooks", 201, created.body);
      expect(created.body.secret).toMatch(/^whsec_/);
      const id = created.body.id as string;

      const listed = await call(hooks.GET, { key: t.key, path: `/api/v1/webhooks?url=${encodeURIComponent(receiver.url)}` });
      expectConforms(doc, "get", "/api/v1/webhooks", 200, listed.body);
      expect((listed.body.data as { id: string }[]).map((e) => e.id)).toEqual([id]);
      expect(JSON.stringify(listed.body)).not.toContain("whsec_");
      expect(((await call(hooks.GET, { key: t.key, path: "/api/v1/webhooks?url=https%3A%2F%2Fnone.example" })).body.data as unknown[]).length).toBe(0);

      const tested = await call(hookTest.POST, { method: "POST", key: t.key, params: { id }, body: { event_type: "booking_received" } });
      expectConforms(doc, "post", "/api/v1/webhooks/{id}/test", 200, tested.body);
      expect(tested.body).toMatchObject({ succeeded: true, response_status: 200, event_type: "booking_received" });
      expect(new Webhook(created.body.secret as string).verify(receiver.received[0]!.body, receiver.received[0]!.headers)).toMatchObject({
        type: "booking_received",
      });

      const patched = await call(hook.PATCH, { method: "PATCH", key: t.key, params: { id }, body: { event_types: [], enabled: false } });
      expectConforms(doc, "patch", "/api/v1/webhooks/{id}", 200, patched.body);
      expect(patched.body).toMatchObject({ event_types: [], enabled: false, disabled_reason: "disabled by an admin" });
      const got = await call(hook.GET, { key: t.key, params: { id } });
      expectConforms(doc, "get", "/api/v1/webhooks/{id}", 200, got.body);

      const bad = await call(hooks.POST, { method: "POST", key: t.key, body: { url: "not a url", event_types: ["order_shipped"] } });
      expect(bad.status).toBe(400);
      expectConforms(doc, "post", "/api/v1/webhooks", 400, bad.body);

      for (let i = 0; i < 2; i++) {
        const del = await call(hook.DELETE, { method: "DELETE", key: t.key, params: { id } });
        expect(del.status).toBe(200);
        expectConforms(doc, "delete", "/api/v1/webhooks/{id}", 200, del.body);
      }
      expect((await call(hook.GET, { key: t.key, params: { id } })).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  it("takes and returns rate_limit, ordering, headers and auth — never a secret — and refuses bad settings without writing", async () => {
    const created = await call(hooks.POST, {
      method: "POST",
      key: t.key,
      body: {
        url: "http://127.0.0.1:9/settings",
        rate_limit: 5,
        ordering: "per_record",
        headers: { "X-Api-Key": "hdr-secret" },
        auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", client_secret: "oauth-secret", scope: "a b" },
      },
    });
    expect(created.status).toBe(201);
    expectConforms(doc, "post", "/api/v1/webhooks", 201, created.body);
    expect(created.body).toMatchObject({
      rate_limit: 5,
      effective_rate: 5,
      ordering: "per_record",
      headers: ["X-Api-Key"],
      auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", scope: "a b" },
      circuit: { state: "closed" },
    });
    expect(JSON.stringify(created.body)).not.toMatch(/hdr-secret|oauth-secret/);
    const id = created.body.id as string;
    const patched = await call(hook.PATCH, {
      method: "PATCH",
      key: t.key,
      params: { id },
      body: { rate_limit: null, ordering: "none", headers: null, auth: { type: "basic", username: "u", password: "pw-secret" } },
    });
    expectConforms(doc, "patch", "/api/v1/webhooks/{id}", 200, patched.body);
    expect(patched.body).toMatchObject({ rate_limit: null, effective_rate: null, ordering: "none", headers: [], auth: { type: "basic", username: "u" } });
    expect(JSON.stringify(patched.body)).not.toMatch(/pw-secret/);

    const refused = [
      { rate_limit: 0 },
      { rate_limit: 1001 },
      { rate_limit: 2.5 },
      { ordering: "per_customer" },
      { headers: { "Content-Type": "text/plain" } },
      { headers: { "X-Bad": "a\r\nInjected: yes" } },
      { headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, "v"])) },
      { headers: { "bad name": "v" } },
      { auth: { type: "bearer" } },
      { auth: { type: "oauth2", token_url: "ftp://127.0.0.1/token", client_id: "c", client_secret: "s" } },
      { auth: { type: "digest", token: "x" } },
    ];
    for (const body of refused) {
      const res = await call(hook.PATCH, { method: "PATCH", key: t.key, params: { id }, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectConforms(doc, "patch", "/api/v1/webhooks/{id}", 400, res.body);
    }
    // Operational events can be tested like any other.
    const tested = await call(hookTest.POST, { method: "POST", key: t.key, params: { id }, body: { event_type: "endpoint.failing" } });
    expect(tested.status).toBe(200);
    expectConforms(doc, "post", "/api/v1/webhooks/{id}/test", 200, tested.body);
    expect(tested.body).toMatchObject({ event_type: "endpoint.failing", succeeded: false });
    const after = await call(hook.GET, { key: t.key, params: { id } });
    expect(after.body).toMatchObject({ rate_limit: null, ordering: "none", headers: [], auth: { type: "basic", username: "u" } });
    await call(hook.DELETE, { method: "DELETE", key: t.key, params: { id } });
  });

  it("serves the events feed newest first, with webhook bodies and cursor pagination", async () => {
    const c = await createRecord(t.org.ctx, "client", { name: "Feed Fiona" });
    await updateRecord(t.org.ctx, "client", c.id, { phone: "1" });
    await updateRecord(t.org.ctx, "client", c.id, { phone: "2" });
    await feedWhen(t.key, "type=client_updated&limit=2", (data) => data.length === 2);
    const first = await call(events.GET, { key: t.key, path: "/api/v1/events?type=client_updated&limit=1" });
    expectConforms(doc, "get", "/api/v1/events", 200, first.body);
    const page1 = first.body.data as { id: string; type: string; data: { version: number }; previous: object }[];
    expect(page1).toHaveLength(1);
    expect(page1[0]).toMatchObject({ type: "client_updated", data: { version: 3 }, previous: { phone: "1" } });
    expect(first.body.has_more).toBe(true);
    const second = await call(events.GET, { key: t.key, path: `/api/v1/events?type=client_updated&limit=1&cursor=${first.body.next_cursor}` });
    expect((second.body.data as { data: { version: number } }[])[0]!.data.version).toBe(2);
    const all = await call(events.GET, { key: t.key, path: "/api/v1/events?limit=100" });
    expect((all.body.data as { type: string }[]).some((e) => e.type === "booking_received")).toBe(false); // the test event is not in the feed
    expect((await call(events.GET, { key: t.key, path: "/api/v1/events?type=nope" })).status).toBe(400);
  });

  it("lists every event type with a sample payload", async () => {
    const res = await call(eventTypes.GET, { key: t.key });
    expectConforms(doc, "get", "/api/v1/event-types", 200, res.body);
    const types = (res.body.data as { type: string }[]).map((t) => t.type);
    expect(types).toEqual([
      "client_created",
      "client_updated",
      "work_order_created",
      "work_order_completed",
      "invoice_sent",
      "invoice_paid",
      "booking_received",
      "record.created",
      "record.updated",
      "record.deleted",
      "workflow_triggered",
      "endpoint.failing",
      "endpoint.recovered",
      "endpoint.disabled",
      "delivery.exhausted",
      "api_key.expiring",
      "connector.paused",
      "import.completed",
    ]);
    expect((res.body.data as { type: string; group: string }[]).filter((t) => t.group === "operational")).toHaveLength(7);
  });
});
