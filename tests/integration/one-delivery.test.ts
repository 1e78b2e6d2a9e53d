import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { webhookDeliveries } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { redeliver, redeliverFailed } from "@/lib/webhooks/delivery-log";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { dashboardStats } from "@/lib/dashboard/stats";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { startReceiver, waitFor } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let worker: DeliveryWorker;
const orgs: TestOrg[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // One attempt only: a delivery that fails once is failed for good.
  restoreEnv = allowPrivateUrls({ WEBHOOK_RETRY_SCHEDULE: "0" });
  handle = await useTestDb();
  db = handle.db;
  worker = startWorker(db, { pollMs: 100, orgIds: () => orgs.map((o) => o.org.id) });
});

afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

afterAll(async () => {
  await worker.stop();
  await dropTestOrgs(db, orgs);
  await handle.close();
  restoreEnv();
});

async function newOrg() {
  const o = await createTestOrg(db, { plan: "business" });
  orgs.push(o);
  return o;
}

type Payload = { type: string; generic_type?: string; data: Record<string, unknown> };
const settle = () => new Promise((r) => setTimeout(r, 500));

describe("one delivery per change per endpoint", () => {
  it("sends an 'all events' endpoint one delivery for a new client and one for a completed work order, with the client inside", async () => {
    const org = await newOrg();
    const r = await startReceiver();
    closers.push(r.close);
    const ep = await createEndpoint(db, org.ctx, { url: r.url });
    const verify = (i: number) => new Webhook(ep.secret).verify(r.received[i]!.body, r.received[i]!.headers) as Payload;

    const client = await createRecord(org.ctx, "client", { name: "Dana Reyes", email: "dana@example.com", phone: "+1 555 0142", status: "lead" });
    await waitFor(() => r.received.length >= 1, { what: "the client's delivery" });
    await settle();
    expect(r.received).toHaveLength(1);
    expect(verify(0)).toMatchObject({ type: "client_created", generic_type: "record.created", data: { id: client.id, name: "Dana Reyes" } });

    const job = await createRecord(org.ctx, "work_order", { title: "Move-out clean", client_id: client.id, status: "scheduled" });
    await waitFor(() => r.received.length >= 2, { what: "the work order's delivery" });
    await updateRecord(org.ctx, "work_order", job.id, { status: "completed" });
    await waitFor(() => r.received.length >= 3, { what: "the completion's delivery" });
    await settle();
    expect(r.received).toHaveLength(3);
    expect(verify(1)).toMatchObject({ type: "work_order_created", generic_type: "record.created" });
    const completed = verify(2);
    expect(completed).toMatchObject({ type: "work_order_completed", generic_type: "record.updated", data: { id: job.id, status: "completed" } });
    expect(completed.data.client).toEqual({ id: client.id, name: "Dana Reyes", email: "dana@example.com", phone: "+1 555 0142", address: null });
    expect(r.received[2]!.headers["x-smarfle-event"]).toBe("work_order_completed");
  });

  it("still sends the generic event to an endpoint that subscribes to it alone", async () => {
    const org = await newOrg();
    const r = await startReceiver();
    closers.push(r.close);
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["record.created"] });
    const inv = await createRecord(org.ctx, "invoice", { number: "INV-7", amount: 120, status: "paid" });
    await waitFor(() => r.received.length >= 1, { what: "the invoice's delivery" });
    await settle();
    expect(r.received).toHaveLength(1);
    const payload = new Webhook(ep.secret).verify(r.received[0]!.body, r.received[0]!.headers) as Payload;
    expect(payload).toMatchObject({ type: "record.created", data: { id: inv.id, client: null, work_order: null } });
    expect(payload.generic_type).toBeUndefined();
  });

  it("marks a failed delivery recovered once a re-delivery succeeds: re-deliver failed sends nothing more, and it no longer counts as a failure", async () => {
    const org = await newOrg();
    let up = false;
    const r = await startReceiver(() => ({ status: up ? 200 : 500 }));
    closers.push(r.close);
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    await createRecord(org.ctx, "client", { name: "Flaky Fran", status: "lead" });
    const deliveriesOf = () =>
      db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.orgId, org.org.id), eq(webhookDeliveries.endpointId, ep.endpoint.id)));
    const [failed] = await waitFor(
      async () => {
        const rows = await deliveriesOf();
        return rows.length === 1 && rows[0]!.status === "failed" ? rows : null;
      },
      { what: "the failed delivery" },
    );
    const failureCount = async () => (await dashboardStats(db, org.org.id)).totals.failed;
    expect(await failureCount()).toBe(1);

    up = true;
    const again = await redeliver(db, org.ctx, failed!.id);
    await waitFor(async () => (await deliveriesOf()).find((d) => d.id === again)?.status === "succeeded", { what: "the re-delivery" });
    const rows = await deliveriesOf();
    expect(rows.find((d) => d.id === failed!.id)!.status).toBe("recovered");
    expect(await failureCount()).toBe(0);

    const sent = r.received.length;
    expect(await redeliverFailed(db, org.ctx, ep.endpoint.id, new Date(Date.now() - 86_400_000))).toBe(0);
    await settle();
    expect(r.received).toHaveLength(sent);
  });
});
