import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { organizations, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { writeOutbox } from "@/lib/webhooks/outbox";
import { enforceRetention, setRetention } from "@/lib/audit/retention";
import * as events from "@/app/api/v1/events/route";
import { createTestOrg, dropTestOrgs, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { expectConforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";
import { feedWhen } from "../helpers/feed";

let handle: DbHandle;
let db: Db;
let doc: OpenApiDoc;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  // Many connections, so writers' transactions really interleave (PGlite has one, and serialises them).
  handle = await useTestDb({ max: 20 });
  db = handle.db;
  doc = await loadDocument();
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
});

async function newOrg() {
  const o = await createTestOrg(db, { plan: "business" });
  orgs.push(o);
  return { ...o, key: (await makeKey(db, o, ["read"])).key };
}

type FeedEvent = { id: string; type: string; data: { id: string; version: number } };
type Feed = { data: FeedEvent[]; has_more: boolean; next_cursor: string | null; retention_days: number; reaches_back_to: string };

async function feed(key: string, query: string) {
  const res = await call(events.GET, { key, path: `/api/v1/events?${query}` });
  return { status: res.status, body: res.body as unknown as Feed & { error?: { code: string; details: { path: string; message: string }[] } } };
}

/** The id of the org's newest event, read from the feed once it has settled (what a consumer starts from). */
async function newestEventId(key: string, count = 1): Promise<string> {
  const page = await feedWhen(key, `limit=${count}`, (data) => data.length === count);
  return String(page.body.data[0]!.id);
}

describe("the events feed", () => {
  it("walks after= exactly: 50 writers create 5,000 clients and a concurrent consumer sees each client_created once, in version order per record", async () => {
    const o = await newOrg();
    // The consumer polls the head of the feed as fast as it answers: not what the rate limit is tested with.
    await db.update(organizations).set({ rateLimitRpm: 1_000_000 }).where(eq(organizations.id, o.org.id));
    await createRecord(o.ctx, "client", { name: "Before the rush" });
    let cursor = await newestEventId(o.key, 2);

    const WRITERS = 50;
    const PER_WRITER = 100;
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < PER_WRITER; i++) {
          // Each transaction lingers a little after its write, as a busy or distant writer's would:
          // commit order then differs from id (and transaction id) order.
          const c = await db.transaction(async (tx) => {
            const made = await createRecord(o.ctx, "client", { name: `W${w}-${i}` }, { db: tx });
            await new Promise((r) => setTimeout(r, randomInt(0, 8)));
            return made;
          });
          // Some records change too: their later version must come later in the feed.
          if (i % 10 === 0) await updateRecord(o.ctx, "client", c.id, { phone: `555-${w}-${i}` });
          // Paced, so the consumer keeps up and reads at the head of the feed, where late commits land.
          await new Promise((r) => setTimeout(r, randomInt(100, 300)));
        }
      }),
    ).finally(() => (writing = false));

    const created = new Map<string, number>();
    const seenIds = new Set<string>();
    const lastVersion = new Map<string, number>();
    let duplicates = 0;
    let outOfOrder = 0;
    let pages = 0;
    let emptyPages = 0;
    const consume = async () => {
      const page = await feed(o.key, `after=${cursor}&limit=100`);
      expect(page.status).toBe(200);
      if (pages++ === 0) expectConforms(doc, "get", "/api/v1/events", 200, page.body);
      for (const e of page.body.data) {
        if (seenIds.has(e.id)) duplicates++;
        seenIds.add(e.id);
        if (e.type === "client_created") created.set(e.data.id, (created.get(e.data.id) ?? 0) + 1);
        if (e.type === "client_created" || e.type === "client_updated") {
          if ((lastVersion.get(e.data.id) ?? 0) >= e.data.version) outOfOrder++;
          lastVersion.set(e.data.id, e.data.version);
        }
      }
      cursor = page.body.next_cursor!;
      return page.body;
    };
    while (writing) {
      const page = await consume();
      if (page.data.length === 0) {
        emptyPages++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await writers;
    // Drain what settles after the last writer finished (until nothing more comes for a while).
    for (let quietSince = Date.now(); Date.now() - quietSince < 3_000;) {
      const page = await consume();
      if (page.data.length) quietSince = Date.now();
      else await new Promise((r) => setTimeout(r, 50));
    }

    expect(duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(created.size).toBe(WRITERS * PER_WRITER);
    expect([...created.values()].every((n) => n === 1)).toBe(true);
    // It read at the head of the feed, where late commits land, not only behind it.
    expect(emptyPages).toBeGreaterThan(10);
  }, 180_000);

  it.skipIf(!usingPostgres)("holds back an event whose transaction is still open, then serves it before the ones that committed first", async () => {
    const o = await newOrg();
    await createRecord(o.ctx, "client", { name: "Start" });
    const start = await newestEventId(o.key, 2);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    // The slow writer's transaction takes its id first and commits last.
    const slow = db.transaction(async (tx) => {
      await writeOutbox(tx, o.org.id, [
        { type: "client_created", recordType: "client", recordId: "cli_slow", data: { id: "cli_slow", object: "client", version: 1 } },
      ]);
      wrote();
      await held;
    });
    await written;
    const fast = await createRecord(o.ctx, "client", { name: "Fast" });

    const early = await feed(o.key, `after=${start}`);
    expect(early.body.data.map((e) => e.data.id)).toEqual([]);
    expect(early.body.next_cursor).toBe(start);
    release();
    await slow;
    const later = await feedWhen(o.key, `after=${start}`, (data) => data.length === 3);
    expect(later.body.data.map((e) => (e.data as { id: string }).id)).toEqual(["cli_slow", fast.id, fast.id]);
  });

  it("pages before= newest first, refuses both directions or an unknown cursor, and says how far back it reaches", async () => {
    const o = await newOrg();
    for (let i = 0; i < 5; i++) await createRecord(o.ctx, "opportunity", { title: `Deal ${i}` });
    await feedWhen(o.key, "type=record.created", (data) => data.length === 5);
    const first = await feed(o.key, "limit=3&type=record.created");
    expect(first.body.data.map((e) => (e.data as unknown as { title: string }).title)).toEqual(["Deal 4", "Deal 3", "Deal 2"]);
    expect(first.body).toMatchObject({ has_more: true, retention_days: 30 });
    expect(Math.abs(Date.parse(first.body.reaches_back_to) - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
    const second = await feed(o.key, `limit=3&type=record.created&before=${first.body.next_cursor}`);
    expect(second.body.data.map((e) => (e.data as unknown as { title: string }).title)).toEqual(["Deal 1", "Deal 0"]);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });

    const both = await feed(o.key, `after=${first.body.next_cursor}&before=${first.body.next_cursor}`);
    expect(both.status).toBe(400);
    const unknown = await feed(o.key, "after=evt_doesNotExist0000");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error!.details[0]).toMatchObject({ path: "after" });
    expect(unknown.body.error!.details[0]!.message).toContain("kept 30 days");
  });

  it("keeps events as long as the organization chose (7–90 days), and the feed says so", async () => {
    const o = await newOrg();
    const old = await createRecord(o.ctx, "client", { name: "Old news" });
    const recent = await createRecord(o.ctx, "client", { name: "Fresh" });
    await db.execute(sql`update webhook_events set created_at = now() - interval '10 days' where org_id = ${o.org.id} and record_id = ${old.id}`);
    await db.execute(sql`update webhook_events set created_at = now() - interval '5 days' where org_id = ${o.org.id} and record_id = ${recent.id}`);

    await enforceRetention(db);
    const count = async (recordId: string) =>
      (
        await db
          .select()
          .from(webhookEvents)
          .where(and(eq(webhookEvents.orgId, o.org.id), eq(webhookEvents.recordId, recordId)))
      ).length;
    expect(await count(old.id)).toBeGreaterThan(0); // 10 days < the default 30

    await expect(setRetention(db, o.ctx, { auditDays: 90, requestDays: 30, eventDays: 5 })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(setRetention(db, o.ctx, { auditDays: 90, requestDays: 30, eventDays: 91 })).rejects.toMatchObject({ code: "validation_failed" });
    await setRetention(db, o.ctx, { auditDays: 90, requestDays: 30, eventDays: 7 });
    const [row] = await db.select().from(organizations).where(eq(organizations.id, o.org.id));
    expect(row!.eventRetentionDays).toBe(7);

    await enforceRetention(db);
    expect(await count(old.id)).toBe(0);
    expect(await count(recent.id)).toBeGreaterThan(0);
    const page = await feed(o.key, "limit=1");
    expect(page.body.retention_days).toBe(7);
  });
});
