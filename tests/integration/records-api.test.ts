import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditLog, clients, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as list from "@/app/api/v1/records/[type]/route";
import * as one from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import { outputSchema, registry } from "@/lib/records/registry";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["read", "write", "delete", "bulk"])).key;
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  await handle.close();
});

describe("records API", () => {
  it("creates, reads, updates and deletes a record, each write through the pipeline", async () => {
    const created = await call(list.POST, {
      method: "POST",
      key,
      params: { type: "work_order" },
      body: { title: "Boiler service", scheduled_at: "2026-12-03T09:00:00Z", external_id: "wo-77" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: "work_order",
      title: "Boiler service",
      status: "open",
      version: 1,
      external_id: "wo-77",
      scheduled_at: "2026-12-03T09:00:00.000Z",
    });
    outputSchema(registry.work_order).parse(created.body);
    const id = created.body.id as string;

    const got = await call(one.GET, { key, params: { type: "work-orders", id } });
    expect(got).toMatchObject({ status: 200, body: { id } });

    const patched = await call(one.PATCH, { method: "PATCH", key, params: { type: "work_order", id }, body: { status: "completed" } });
    expect(patched.body).toMatchObject({ status: "completed", version: 2, title: "Boiler service" });

    const deleted = await call(one.DELETE, { method: "DELETE", key, params: { type: "work_order", id } });
    expect(deleted.body).toEqual({ id, object: "work_order", deleted: true });
    expect((await call(one.GET, { key, params: { type: "work_order", id } })).status).toBe(404);

    const audit = await db.select().from(auditLog).where(eq(auditLog.targetId, id));
    expect(audit.map((a) => a.action).sort()).toEqual(["work_order.created", "work_order.deleted", "work_order.updated"]);
    expect(audit.every((a) => a.source === "api" && a.actorType === "api_key")).toBe(true);
    const events = await db.select().from(webhookEvents).where(eq(webhookEvents.recordId, id));
    expect(events.map((e) => e.type).sort()).toEqual(["record.created", "record.deleted", "record.updated", "work_order_completed", "work_order_created"]);
  });

  it("answers unknown types and ids with 404 in the error shape", async () => {
    const t = await call(list.GET, { key, params: { type: "unicorn" } });
    expect(t.status).toBe(404);
    expect(t.body.error).toMatchObject({ code: "not_found" });
    expect((await call(one.GET, { key, params: { type: "client", id: "cli_doesnotexist" } })).status).toBe(404);
  });

  it("filters by status, external_id, q and dates, and validates the query", async () => {
    const mk = (body: object) => call(list.POST, { method: "POST", key, params: { type: "client" }, body });
    await mk({ name: "Filter Alpha", status: "lead", external_id: "f-1" });
    await mk({ name: "Filter Beta", status: "inactive", email: "beta@filter.test" });
    const q = (query: string) => call(list.GET, { key, params: { type: "client" }, path: `/api/v1/records/client?${query}` });
    expect(((await q("status=lead&q=filter")).body.data as { name: string }[]).map((c) => c.name)).toEqual(["Filter Alpha"]);
    expect(((await q("external_id=f-1")).body.data as unknown[]).length).toBe(1);
    expect(((await q("q=beta%40filter")).body.data as unknown[]).length).toBe(1);
    expect(((await q(`created_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data as unknown[]).length).toBe(0);
    for (const bad of ["limit=0", "limit=101", "limit=abc", "updated_since=yesterday", "status=vip", "colour=red"]) {
      const res = await q(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toMatchObject({ code: "validation_failed" });
    }
  });

  it("bulk-upserts up to 1,000 records by external_id with a result per item", async () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({ external_id: `bulk-${i}`, name: `Bulk ${i}`, email: i === 7 ? "broken" : `b${i}@bulk.test` }));
    const first = await call(bulk.POST, { method: "POST", key, params: { type: "client" }, body: { records } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ object: "bulk_result", created: 999, updated: 0, failed: 1 });
    const failed = (first.body.results as { index: number; status: string; error: { details: { path: string }[] } }[]).find((r) => r.status === "failed")!;
    expect(failed.index).toBe(7);
    expect(failed.error.details[0]!.path).toBe("records[7].email");

    records[7]!.email = "fixed@bulk.test";
    records[8]!.name = "Bulk eight, renamed";
    const second = await call(bulk.POST, { method: "POST", key, params: { type: "client" }, body: { records } });
    expect(second.body).toMatchObject({ created: 1, updated: 1, unchanged: 998, failed: 0 });
    const tooMany = await call(bulk.POST, { method: "POST", key, params: { type: "client" }, body: { records: [...records, { name: "one more" }] } });
    expect(tooMany.status).toBe(400);
  });

  it("walks 2,500 records page by page with no duplicates or gaps while new ones arrive", async () => {
    const walker = await createTestOrg(db, { plan: "business" });
    try {
      const wkey = (await makeKey(db, walker, ["read", "write", "bulk"])).key;
      for (let batch = 0; batch < 3; batch++) {
        const records = Array.from({ length: batch < 2 ? 1000 : 500 }, (_, i) => ({ name: `Walk ${batch}-${i}` }));
        const res = await call(bulk.POST, { method: "POST", key: wkey, params: { type: "client" }, body: { records } });
        expect(res.body).toMatchObject({ failed: 0 });
      }
      const initial = new Set((await db.select({ id: clients.id }).from(clients).where(eq(clients.orgId, walker.org.id))).map((r) => r.id));
      expect(initial.size).toBe(2500);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        // Someone keeps adding records while we page.
        await call(list.POST, { method: "POST", key: wkey, params: { type: "client" }, body: { name: `Late ${pages}` } });
        const res: { body: { data: { id: string }[]; has_more: boolean; next_cursor: string | null } } = (await call(list.GET, {
          key: wkey,
          params: { type: "client" },
          path: `/api/v1/records/client?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
        })) as never;
        seen.push(...res.body.data.map((r) => r.id));
        cursor = res.body.has_more ? res.body.next_cursor : null;
        pages++;
      } while (cursor && pages < 100);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of initial) expect(seen.includes(id)).toBe(true);
    } finally {
      await dropTestOrgs(db, [walker]);
    }
  }, 60_000);
});
