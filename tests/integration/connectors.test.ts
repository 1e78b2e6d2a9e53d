import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq } from "drizzle-orm";
import { clients, connectorRuns, connectors, notifications } from "@/db/schema";
import { connectorRunsSettled, runDueConnectors } from "@/lib/connectors/run";
import { runView } from "@/lib/connectors/connectors";
import { afterWorkSettled } from "@/lib/http/after";
import * as list from "@/app/api/v1/connectors/route";
import * as one from "@/app/api/v1/connectors/[id]/route";
import * as runNow from "@/app/api/v1/connectors/[id]/run/route";
import * as runs from "@/app/api/v1/connectors/[id]/runs/route";
import { withTestOrg } from "../helpers/fixture";
import { call } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

const t = withTestOrg({ plan: "business", scopes: ["admin"] });

/** A local source system: 7 contacts served 3 per page, with cursor and updated_since paging. */
interface Contact {
  id: string;
  full_name: string;
  email: string;
  updated_at: string;
}
let restoreEnv: () => void;
let contacts: Contact[] = [];
let failing = false;
const seenRequests: string[] = [];
let source: http.Server;
let base: string;

beforeAll(async () => {
  contacts = Array.from({ length: 7 }, (_, i) => ({
    id: `c${i + 1}`,
    full_name: `Contact ${i + 1}`,
    email: `c${i + 1}@source.test`,
    updated_at: `2026-11-0${i + 1}T00:00:00Z`,
  }));
  source = http.createServer((req, res) => {
    seenRequests.push(req.url!);
    const url = new URL(req.url!, "http://x");
    if (failing) {
      res.writeHead(503).end("maintenance");
      return;
    }
    if (req.headers.authorization !== "Bearer source-token") {
      res.writeHead(401).end("no");
      return;
    }
    let items = contacts;
    const since = url.searchParams.get("updated_since");
    if (since) items = items.filter((c) => c.updated_at > since);
    const offset = Number(url.searchParams.get("cursor") ?? 0);
    const page = items.slice(offset, offset + 3);
    const next = offset + 3 < items.length ? String(offset + 3) : null;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ result: { contacts: page }, next_cursor: next, next: next ? `/contacts?cursor=${next}` : null }));
  });
  await new Promise<void>((r) => source.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
  restoreEnv = allowPrivateUrls();
});

afterAll(async () => {
  restoreEnv();
  source.closeAllConnections();
  source.close();
});

const mapping = { target: "client", external_id: "id", fields: { name: "full_name", email: "email", source: { value: "crm sync" } } };
const orgClients = () =>
  t.db
    .select()
    .from(clients)
    .where(and(eq(clients.orgId, t.org.org.id), eq(clients.source, "crm sync")));

async function create(pagination: object, extra: object = {}) {
  const res = await call(list.POST, {
    method: "POST",
    key: t.key,
    body: {
      name: "CRM",
      url: `${base}/contacts`,
      headers: { Authorization: "Bearer source-token" },
      interval_minutes: 15,
      records_path: "result.contacts",
      pagination,
      mapping,
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.header_names).toEqual(["Authorization"]);
  expect(JSON.stringify(res.body)).not.toContain("source-token");
  return res.body.id as string;
}

/** "Run now" answers 202 with the queued run at once; this waits for the run to end. */
async function runNowToEnd(id: string) {
  const res = await call(runNow.POST, { method: "POST", key: t.key, params: { id } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ object: "connector_run", status: "queued", trigger: "manual" });
  await afterWorkSettled();
  await connectorRunsSettled();
  const [run] = await t.db
    .select()
    .from(connectorRuns)
    .where(eq(connectorRuns.id, res.body.id as string));
  return { status: res.status, body: runView(run!) as Record<string, unknown> };
}

describe("pull connectors", () => {
  it("follows next-page URLs through every page, and a re-run changes nothing", async () => {
    const paged = await create({ type: "next_url", path: "next" });
    const full = await runNowToEnd(paged);
    expect(full.body).toMatchObject({ status: "succeeded", pages: 3, fetched: 7, created: 7, updated: 0, failed: 0 });
    expect(await orgClients()).toHaveLength(7);
    const again = await runNowToEnd(paged);
    expect(again.body).toMatchObject({ status: "succeeded", fetched: 7, created: 0, updated: 0 });
    expect(await orgClients()).toHaveLength(7);
    await call(one.DELETE, { method: "DELETE", key: t.key, params: { id: paged } });
  });

  it("keeps a cursor between runs so each run fetches only new records", async () => {
    await t.db.delete(clients).where(eq(clients.orgId, t.org.org.id));
    const id = await create({ type: "cursor", param: "cursor", path: "next_cursor" });
    const first = await runNowToEnd(id);
    expect(first.body).toMatchObject({ pages: 3, fetched: 7, created: 7 });
    expect(first.body.cursor_after).toBe("6");
    contacts.push({ id: "c8", full_name: "Contact 8", email: "c8@source.test", updated_at: "2026-11-20T00:00:00Z" });
    seenRequests.length = 0;
    const second = await runNowToEnd(id);
    expect(seenRequests[0]).toBe("/contacts?cursor=6");
    expect(second.body).toMatchObject({ status: "succeeded", fetched: 2, created: 1, updated: 0 });
    expect(await orgClients()).toHaveLength(8);
    await call(one.DELETE, { method: "DELETE", key: t.key, params: { id } });
  });

  it("with updated_since, the second run asks only for records changed since the highest value seen", async () => {
    await t.db.delete(clients).where(eq(clients.orgId, t.org.org.id));
    const id = await create({ type: "updated_since", param: "updated_since", field: "updated_at" }, { records_path: "result.contacts" });
    await runNowToEnd(id);
    contacts[0] = { ...contacts[0]!, full_name: "Contact One (renamed)", updated_at: "2026-11-21T00:00:00Z" };
    seenRequests.length = 0;
    const second = await runNowToEnd(id);
    expect(seenRequests[0]).toBe(`/contacts?updated_since=${encodeURIComponent("2026-11-03T00:00:00Z")}`);
    expect(second.body).toMatchObject({ status: "succeeded", updated: 1 });
    const [renamed] = await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.externalId, "c1")));
    expect(renamed!.name).toBe("Contact One (renamed)");
    await call(one.DELETE, { method: "DELETE", key: t.key, params: { id } });
  });

  it("logs a failing source, retries at the next interval, and pauses after 5 failures in a row", async () => {
    const id = await create({ type: "none" });
    failing = true;
    try {
      const res = await runNowToEnd(id);
      expect(res.body).toMatchObject({ status: "failed", fetched: 0 });
      expect(res.body.error).toMatch(/503/);
      const [c] = await t.db.select().from(connectors).where(eq(connectors.id, id));
      expect(c!.consecutiveFailures).toBe(1);
      expect(c!.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
      // The scheduler runs it when it is due again.
      for (let i = 0; i < 4; i++) {
        await t.db
          .update(connectors)
          .set({ nextRunAt: new Date(Date.now() - 1000) })
          .where(eq(connectors.id, id));
        expect(await runDueConnectors(t.db, { orgIds: [t.org.org.id] })).toBe(1);
        await connectorRunsSettled();
      }
      const [paused] = await t.db.select().from(connectors).where(eq(connectors.id, id));
      expect(paused).toMatchObject({ status: "paused", consecutiveFailures: 5 });
      const notes = await t.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.orgId, t.org.org.id), eq(notifications.kind, "connector_paused")));
      expect(notes.length).toBe(2); // owner and admin
      const history = await call(runs.GET, { key: t.key, params: { id } });
      expect((history.body.data as { status: string }[]).map((r) => r.status)).toEqual(Array(5).fill("failed"));
      // Paused connectors are not scheduled; resuming resets the count.
      await t.db
        .update(connectors)
        .set({ nextRunAt: new Date(Date.now() - 1000) })
        .where(eq(connectors.id, id));
      expect(await runDueConnectors(t.db, { orgIds: [t.org.org.id] })).toBe(0);
      failing = false;
      const resumed = await call(one.PATCH, { method: "PATCH", key: t.key, params: { id }, body: { enabled: true } });
      expect(resumed.body).toMatchObject({ status: "active", consecutive_failures: 0 });
    } finally {
      failing = false;
    }
  });

  it("validates connectors: interval bounds, pagination shape and mapping", async () => {
    const bad = await call(list.POST, {
      method: "POST",
      key: t.key,
      body: { name: "x", url: `${base}/c`, interval_minutes: 1, pagination: { type: "pages" }, mapping },
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body.error as { details: { path: string }[] }).details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["interval_minutes", "pagination.type"]));
  });
});
