import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, inArray, sql } from "drizzle-orm";
import { auditLog, clients, notifications, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { createRecord, deleteRecord, updateRecord, writeRecords } from "@/lib/records/pipeline";
import { createTestOrg, dropTestOrgs, setRecordCount, uniq, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];
let counting = false;
let statements: string[] = [];

beforeAll(async () => {
  handle = await useTestDb({
    logger: {
      logQuery(query) {
        if (counting) statements.push(query);
      },
    },
  });
  db = handle.db;
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
});

async function newOrg(plan: "starter" | "pro" | "business" = "pro") {
  const o = await createTestOrg(db, { plan });
  orgs.push(o);
  return o;
}

async function rowsFor(orgId: string) {
  const [audit, events, deliveries] = await Promise.all([
    db.select().from(auditLog).where(eq(auditLog.orgId, orgId)),
    db.select().from(webhookEvents).where(eq(webhookEvents.orgId, orgId)),
    db.select().from(webhookDeliveries).where(eq(webhookDeliveries.orgId, orgId)),
  ]);
  return { audit, events, deliveries };
}

async function addEndpoint(orgId: string, eventTypes: string[], status: "enabled" | "disabled" = "enabled") {
  const id = newId("we");
  await db.insert(webhookEndpoints).values({ id, orgId, url: "https://example.test/hook", eventTypes, secretCiphertext: "x", status });
  return id;
}

describe("the record pipeline", () => {
  it("writes the record, exactly one audit row and the lifecycle events in one go", async () => {
    const { org, ctx } = await newOrg();
    const client = await createRecord(ctx, "client", { name: "Ada Lovelace", email: "ada@example.com", status: "active" });
    expect(client).toMatchObject({ object: "client", name: "Ada Lovelace", email: "ada@example.com", version: 1 });
    expect(client.id).toMatch(/^cli_/);

    const { audit, events } = await rowsFor(org.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "client.created", targetId: client.id, source: "ui", actorType: "user", actorId: ctx.actor.id, before: null });
    expect(audit[0]!.after).toMatchObject({ name: "Ada Lovelace" });
    expect(events.map((e) => e.type).sort()).toEqual(["client_created", "record.created"]);
    expect(events[0]!.data).toMatchObject({ id: client.id, object: "client", version: 1 });
  });

  it("leaves no record, audit row or event behind when a step fails mid-way", async () => {
    const { org, ctx } = await newOrg();
    const fn = `smarfle_test_fail_${uniq("f").replace(/-/g, "_")}`;
    // Fails the outbox insert, which runs after the record and its audit row were written.
    await db.execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$
        begin
          if new.org_id = '${org.id}' and new.data->>'name' = 'EXPLODE' then raise exception 'injected failure'; end if;
          return new;
        end $$`),
    );
    await db.execute(sql.raw(`create trigger ${fn} before insert on webhook_events for each row execute function ${fn}()`));
    try {
      const err = await createRecord(ctx, "client", { name: "EXPLODE", status: "lead" }).catch((e) => e);
      expect(String(err?.cause?.message ?? err?.message)).toMatch(/injected failure/);
      const { audit, events, deliveries } = await rowsFor(org.id);
      expect(audit).toHaveLength(0);
      expect(events).toHaveLength(0);
      expect(deliveries).toHaveLength(0);
      expect(await db.select().from(clients).where(eq(clients.orgId, org.id))).toHaveLength(0);
      expect(await db.select().from(notifications).where(eq(notifications.orgId, org.id))).toHaveLength(0);
    } finally {
      await db.execute(sql.raw(`drop trigger ${fn} on webhook_events`));
      await db.execute(sql.raw(`drop function ${fn}()`));
    }
    // The same write without the fault goes through.
    await createRecord(ctx, "client", { name: "EXPLODE", status: "lead" });
    expect((await rowsFor(org.id)).audit).toHaveLength(1);
  });

  it("queues one delivery per subscribed, enabled endpoint", async () => {
    const { org, ctx } = await newOrg();
    const onlyClients = await addEndpoint(org.id, ["client_created"]);
    const everything = await addEndpoint(org.id, []);
    const invoicesOnly = await addEndpoint(org.id, ["invoice_paid"]);
    const disabled = await addEndpoint(org.id, [], "disabled");
    await createRecord(ctx, "client", { name: "Grace Hopper" });
    const { deliveries, events } = await rowsFor(org.id);
    const byEndpoint = (id: string) => deliveries.filter((d) => d.endpointId === id);
    expect(byEndpoint(onlyClients)).toHaveLength(1);
    expect(events.find((e) => e.id === byEndpoint(onlyClients)[0]!.eventId)!.type).toBe("client_created");
    // One delivery per change: client_created stands for record.created too.
    expect(byEndpoint(everything)).toHaveLength(1);
    expect(events.find((e) => e.id === byEndpoint(everything)[0]!.eventId)!.type).toBe("client_created");
    expect(byEndpoint(invoicesOnly)).toHaveLength(0);
    expect(byEndpoint(disabled)).toHaveLength(0);
    expect(deliveries.every((d) => d.status === "pending" && d.dispatchedAt === null)).toBe(true);
  });

  it("fires transition events only on the transition", async () => {
    const { org, ctx } = await newOrg();
    const inv = await createRecord(ctx, "invoice", { number: "INV-1", amount: "120.50" });
    expect(inv.amount).toBe(120.5);
    await updateRecord(ctx, "invoice", inv.id, { status: "sent" });
    await updateRecord(ctx, "invoice", inv.id, { amount: 130 });
    const paid = await updateRecord(ctx, "invoice", inv.id, { status: "paid" });
    expect(paid.version).toBe(4);
    const wo = await createRecord(ctx, "work_order", { title: "Fix sink", status: "completed" });
    await updateRecord(ctx, "work_order", wo.id, { title: "Fix kitchen sink" });
    await createRecord(ctx, "booking", { service: "Estimate", starts_at: "2026-12-01T10:00:00Z" });

    const { events } = await rowsFor(org.id);
    const count = (t: string) => events.filter((e) => e.type === t).length;
    expect(count("invoice_sent")).toBe(1);
    expect(count("invoice_paid")).toBe(1);
    expect(count("work_order_created")).toBe(1);
    expect(count("work_order_completed")).toBe(1);
    expect(count("booking_received")).toBe(1);
    expect(count("client_created")).toBe(0);
    expect(count("record.created")).toBe(3);
    expect(count("record.updated")).toBe(4);
    const paidEvent = events.find((e) => e.type === "invoice_paid")!;
    expect(paidEvent.previous).toEqual({ status: "sent" });
    expect(paidEvent.data).toMatchObject({ status: "paid", version: 4 });
  });

  it("records updates as before → after and skips writes that change nothing", async () => {
    const { org, ctx } = await newOrg();
    const c = await createRecord(ctx, "client", { name: "Alan", phone: "1", custom_fields: { tier: "gold", size: 3 } });
    const updated = await updateRecord(ctx, "client", c.id, { phone: "2", custom_fields: { size: null, region: "north" } });
    expect(updated.custom_fields).toEqual({ tier: "gold", region: "north" });
    const unchanged = await updateRecord(ctx, "client", c.id, { phone: "2" });
    expect(unchanged.version).toBe(2);
    const { audit, events } = await rowsFor(org.id);
    expect(audit).toHaveLength(2);
    const upd = audit.find((a) => a.action === "client.updated")!;
    expect(upd.before).toEqual({ phone: "1", custom_fields: { tier: "gold", size: 3 } });
    expect(upd.after).toEqual({ phone: "2", custom_fields: { tier: "gold", region: "north" } });
    expect(events.filter((e) => e.type === "client_updated")).toHaveLength(1);
  });

  it("deletes with an audit row and a record.deleted event carrying the last state", async () => {
    const { org, ctx } = await newOrg();
    const c = await createRecord(ctx, "client", { name: "Temp" });
    await deleteRecord(ctx, "client", c.id);
    await expect(deleteRecord(ctx, "client", c.id)).rejects.toMatchObject({ code: "not_found" });
    const { audit, events } = await rowsFor(org.id);
    expect(audit.map((a) => a.action).sort()).toEqual(["client.created", "client.deleted"]);
    const del = events.find((e) => e.type === "record.deleted")!;
    expect(del.data).toMatchObject({ id: c.id, name: "Temp" });
  });

  it("refuses invalid input with every bad field listed, writing nothing", async () => {
    const { org, ctx } = await newOrg();
    const err = await createRecord(ctx, "client", { name: "", email: "nope", status: "vip", extra: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("validation_failed");
    const paths = (err as AppError).details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "email", "status"]));
    expect(paths.some((p) => p === "" || p === "extra")).toBe(true);
    expect((await rowsFor(org.id)).audit).toHaveLength(0);
  });

  it("never lets a record point at another organization's record", async () => {
    const a = await newOrg();
    const b = await newOrg();
    const foreign = await createRecord(b.ctx, "client", { name: "Org B client" });
    const err = await createRecord(a.ctx, "opportunity", { title: "Sneaky", client_id: foreign.id }).catch((e) => e);
    expect(err).toMatchObject({ code: "validation_failed" });
    expect(err.details[0]).toMatchObject({ path: "client_id" });
    await expect(updateRecord(a.ctx, "client", foreign.id, { name: "Hijacked" })).rejects.toMatchObject({ code: "not_found" });
    await expect(deleteRecord(a.ctx, "client", foreign.id)).rejects.toMatchObject({ code: "not_found" });
    const [still] = await db.select().from(clients).where(eq(clients.id, foreign.id));
    expect(still!.name).toBe("Org B client");
  });

  it("notifies every member of a new lead", async () => {
    const { org, ctx, users } = await newOrg();
    await createRecord({ ...ctx, source: "lead_capture", actor: { type: "system", id: null } }, "client", {
      name: "Lead Person",
      status: "lead",
      source: "website",
    });
    await createRecord(ctx, "client", { name: "Not a lead", status: "active" });
    const rows = await db.select().from(notifications).where(eq(notifications.orgId, org.id));
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.userId))).toEqual(new Set(Object.values(users).map((u) => u.id)));
    expect(rows[0]!.title).toBe("New lead: Lead Person");
  });
});

describe("plan limits", () => {
  it("refuses creates past the plan's record limit with plan_limit_reached", async () => {
    const { org, ctx } = await newOrg("starter");
    await setRecordCount(db, org.id, 999);
    await createRecord(ctx, "client", { name: "The last one" });
    const err = await createRecord(ctx, "client", { name: "One too many" }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "plan_limit_reached", status: 403 });
    expect(err.message).toMatch(/1,000 records/);
    expect(await db.select().from(clients).where(eq(clients.orgId, org.id))).toHaveLength(1);
  });

  it("lets a batch fill the remaining quota and refuses the rest item by item", async () => {
    const { org, ctx } = await newOrg("starter");
    await setRecordCount(db, org.id, 998);
    const results = await writeRecords(
      ctx,
      "client",
      Array.from({ length: 5 }, (_, i) => ({ kind: "create" as const, data: { name: `C${i}` } })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.error.code === "plan_limit_reached")).toBe(true);
    expect((await rowsFor(org.id)).audit).toHaveLength(2);
  });

  it("frees quota on delete", async () => {
    const { org, ctx } = await newOrg("starter");
    await setRecordCount(db, org.id, 999);
    const c = await createRecord(ctx, "client", { name: "x" });
    await deleteRecord(ctx, "client", c.id);
    await createRecord(ctx, "client", { name: "y" });
  });
});

describe("the batch path", () => {
  it("writes N records, N audit rows and their events in a handful of statements", async () => {
    const { org, ctx } = await newOrg("business");
    const endpoint = await addEndpoint(org.id, ["client_created"]);
    const n = 500;
    const ops = Array.from({ length: n }, (_, i) => ({
      kind: "create" as const,
      data: { name: `Client ${i}`, email: `c${i}@example.com`, external_id: `ext-${i}` },
    }));
    statements = [];
    counting = true;
    const results = await writeRecords({ ...ctx, source: "import", actor: { type: "import", id: "imp_test" } }, "client", ops);
    counting = false;
    expect(results.every((r) => r.ok && r.outcome === "created")).toBe(true);
    const { audit, events, deliveries } = await rowsFor(org.id);
    expect(audit).toHaveLength(n);
    expect(audit.every((a) => a.source === "import" && a.actorType === "import")).toBe(true);
    expect(events.filter((e) => e.type === "client_created")).toHaveLength(n);
    expect(events.filter((e) => e.type === "record.created")).toHaveLength(n);
    expect(deliveries.filter((d) => d.endpointId === endpoint)).toHaveLength(n);
    // Independent of N: lock, lookup, org, insert, audit, members, events, endpoints, deliveries, counter.
    expect(statements.length).toBeLessThanOrEqual(12);
  });

  it("upserts by external id: creates once, then updates, and reports each item", async () => {
    const { org, ctx } = await newOrg();
    const first = await writeRecords(ctx, "client", [
      { kind: "upsert", data: { external_id: "shop-1", name: "Shopper One" } },
      { kind: "upsert", data: { external_id: "shop-2", name: "Shopper Two" } },
      { kind: "upsert", data: { external_id: "shop-3" } },
    ]);
    expect(first.map((r) => (r.ok ? r.outcome : r.error.code))).toEqual(["created", "created", "validation_failed"]);
    const second = await writeRecords(ctx, "client", [
      { kind: "upsert", data: { external_id: "shop-1", name: "Shopper One", phone: "555" } },
      { kind: "upsert", data: { external_id: "shop-2", name: "Shopper Two" } },
      { kind: "upsert", data: { external_id: "shop-1", name: "dup" } },
    ]);
    expect(second.map((r) => (r.ok ? r.outcome : r.error.code))).toEqual(["updated", "unchanged", "conflict"]);
    const rows = await db.select().from(clients).where(eq(clients.orgId, org.id));
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.externalId === "shop-1")).toMatchObject({ phone: "555", version: 2 });
  });

  it("creates exactly one record when the same external id is upserted concurrently", async () => {
    const { org, ctx } = await newOrg();
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => writeRecords(ctx, "client", [{ kind: "upsert", data: { external_id: "order-42", name: `Try ${i}` } }])),
    );
    expect(attempts.every((a) => a.status === "fulfilled")).toBe(true);
    const rows = await db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, org.id), eq(clients.externalId, "order-42")));
    expect(rows).toHaveLength(1);
    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, org.id), inArray(auditLog.action, ["client.created"])));
    expect(audits).toHaveLength(1);
    if (usingPostgres) expect(rows[0]!.version).toBeGreaterThanOrEqual(1);
  });
});
