import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db, DbHandle } from "@/db/client";
import * as sources from "@/app/api/v1/inbound-sources/route";
import * as sourceRequests from "@/app/api/v1/inbound-sources/[id]/requests/route";
import * as connectors from "@/app/api/v1/connectors/route";
import * as connectorRuns from "@/app/api/v1/connectors/[id]/runs/route";
import * as webhooks from "@/app/api/v1/webhooks/route";
import * as events from "@/app/api/v1/events/route";
import * as records from "@/app/api/v1/records/[type]/route";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

let handle: Db | undefined;
let dbHandle: DbHandle;
let org: TestOrg;
let key: string;
let sourceId: string;
let connectorId: string;
let restoreEnv: () => void;
const mapping = { target: "client", external_id: "id", fields: { name: "name" } };

beforeAll(async () => {
  dbHandle = await useTestDb();
  handle = dbHandle.db;
  restoreEnv = allowPrivateUrls();
  org = await createTestOrg(handle, { plan: "business" });
  key = (await makeKey(handle, org, ["admin"])).key;
  for (let i = 0; i < 3; i++) {
    const res = await call(sources.POST, { method: "POST", key, body: { name: `Source ${i}`, kind: "hmac_sha256_hex", mapping } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    sourceId = res.body.id as string;
  }
  const con = await call(connectors.POST, {
    method: "POST",
    key,
    body: { name: "CRM", url: "http://127.0.0.1:9/contacts", headers: {}, interval_minutes: 60, records_path: "items", pagination: { type: "none" }, mapping },
  });
  expect(con.status, JSON.stringify(con.body)).toBe(201);
  connectorId = con.body.id as string;
});

afterAll(async () => {
  restoreEnv();
  await dropTestOrgs(handle!, [org]);
  await dbHandle.close();
});

const lists = (): { name: string; handler: Parameters<typeof call>[0]; path: string; params: Record<string, string> }[] => [
  { name: "inbound sources", handler: sources.GET, path: "/api/v1/inbound-sources", params: {} },
  { name: "an inbound source's requests", handler: sourceRequests.GET, path: `/api/v1/inbound-sources/${sourceId}/requests`, params: { id: sourceId } },
  { name: "connectors", handler: connectors.GET, path: "/api/v1/connectors", params: {} },
  { name: "a connector's runs", handler: connectorRuns.GET, path: `/api/v1/connectors/${connectorId}/runs`, params: { id: connectorId } },
  { name: "webhook endpoints", handler: webhooks.GET, path: "/api/v1/webhooks", params: {} },
  { name: "events", handler: events.GET, path: "/api/v1/events", params: {} },
  { name: "records", handler: records.GET, path: "/api/v1/records/client", params: { type: "client" } },
];

describe("list parameters", () => {
  it.each(["1.5", "0", "101", "-1", "abc", "", "1e2"])("limit=%s answers 400 in the error envelope on every list route", async (limit) => {
    for (const list of lists()) {
      const res = await call(list.handler, { key, path: `${list.path}?limit=${encodeURIComponent(limit)}`, params: list.params });
      expect(res.status, `${list.name}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "validation_failed", details: [{ path: "limit" }] } });
      expect((res.body.error as { request_id: string }).request_id).toMatch(/^req_/);
    }
  });

  it("checks cursors and refuses unknown parameters", async () => {
    for (const list of lists()) {
      const res = await call(list.handler, { key, path: `${list.path}?limt=5`, params: list.params });
      expect(res.status, `${list.name}: unknown parameter`).toBe(400);
    }
    for (const path of ["/api/v1/inbound-sources", `/api/v1/inbound-sources/${sourceId}/requests`, "/api/v1/connectors"]) {
      const handler = path.endsWith("requests") ? sourceRequests.GET : path.includes("connectors") ? connectors.GET : sources.GET;
      const res = await call(handler, { key, path: `${path}?cursor=${encodeURIComponent("' OR 1=1 --")}`, params: { id: sourceId } });
      expect(res.status, path).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "validation_failed", details: [{ path: "cursor" }] } });
    }
  });

  it("pages with a valid limit and cursor", async () => {
    const first = await call(sources.GET, { key, path: "/api/v1/inbound-sources?limit=2" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ has_more: true });
    expect(first.body.data).toHaveLength(2);
    const second = await call(sources.GET, { key, path: `/api/v1/inbound-sources?limit=2&cursor=${first.body.next_cursor}` });
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data).toHaveLength(1);
    const ids = [...(first.body.data as { id: string }[]), ...(second.body.data as { id: string }[])].map((s) => s.id);
    expect(new Set(ids).size).toBe(3);
    const runs = await call(connectorRuns.GET, { key, path: `/api/v1/connectors/${connectorId}/runs?limit=100`, params: { id: connectorId } });
    expect(runs.status).toBe(200);
  });
});
