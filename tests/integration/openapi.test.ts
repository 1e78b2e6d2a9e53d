import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db, DbHandle } from "@/db/client";
import { RECORD_TYPES } from "@/lib/records/registry";
import * as list from "@/app/api/v1/records/[type]/route";
import * as one from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import * as me from "@/app/api/v1/me/route";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { expectConforms as conforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";

let doc: OpenApiDoc;
let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;

beforeAll(async () => {
  doc = await loadDocument();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["admin"])).key;
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  await handle.close();
});

const expectConforms = (method: string, docPath: string, status: number, body: unknown) => conforms(doc, method, docPath, status, body);

describe("the OpenAPI document", () => {
  // That it documents every served route, and only those, is tests/integration/api-routes.test.ts.
  it("is OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it("describes what the handlers actually answer", async () => {
    const m = await call(me.GET, { key });
    expectConforms("get", "/api/v1/me", m.status, m.body);
    // The check has teeth: a body that strays from the document fails it.
    expect(() => expectConforms("get", "/api/v1/me", 200, { ...m.body, scopes: ["root"] })).toThrow();
    expect(() => expectConforms("get", "/api/v1/records/client/{id}", 200, { id: "cli_1", object: "client" })).toThrow();
    for (const type of RECORD_TYPES) {
      const base = `/api/v1/records/${type}`;
      const sample: Record<string, object> = {
        client: { name: "Doc client", email: "doc@example.com", custom_fields: { a: 1 } },
        opportunity: { title: "Doc deal", value: 10.5 },
        work_order: { title: "Doc job", scheduled_at: "2026-12-01T10:00:00Z" },
        invoice: { number: "DOC-1", amount: 99, due_date: "2026-12-31" },
        booking: { service: "Doc visit", starts_at: "2026-12-01T10:00:00Z" },
      };
      const created = await call(list.POST, { method: "POST", key, params: { type }, body: sample[type] });
      expectConforms("post", base, created.status, created.body);
      const id = created.body.id as string;
      const listed = await call(list.GET, { key, params: { type } });
      expectConforms("get", base, listed.status, listed.body);
      const got = await call(one.GET, { key, params: { type, id } });
      expectConforms("get", `${base}/{id}`, got.status, got.body);
      const patched = await call(one.PATCH, { method: "PATCH", key, params: { type, id }, body: { external_id: `doc-${type}` } });
      expectConforms("patch", `${base}/{id}`, patched.status, patched.body);
      const bulked = await call(bulk.POST, { method: "POST", key, params: { type }, body: { records: [sample[type], {}] } });
      expectConforms("post", `${base}/bulk`, bulked.status, bulked.body);
      const bad = await call(list.POST, { method: "POST", key, params: { type }, body: { nope: true } });
      expectConforms("post", base, bad.status, bad.body);
      const deleted = await call(one.DELETE, { method: "DELETE", key, params: { type, id } });
      expectConforms("delete", `${base}/{id}`, deleted.status, deleted.body);
      const gone = await call(one.GET, { key, params: { type, id } });
      expectConforms("get", `${base}/{id}`, gone.status, gone.body);
    }
  });
});
