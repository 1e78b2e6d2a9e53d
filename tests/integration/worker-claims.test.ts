import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { webhookDeliveries, webhookEvents } from "@/db/schema";
import type { DbHandle } from "@/db/client";
import { newId } from "@/lib/ids";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { claimDue } from "@/lib/webhooks/claim";
import { allowPrivateUrls } from "../helpers/env";
import { createTestOrg, dropTestOrgs, openTestDb, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";

/**
 * Several servers claim deliveries from one table. A claim is a lease: while it lasts, no other
 * server may claim the same delivery. Two connection pools stand for two servers here.
 */
let handle: DbHandle;
let second: DbHandle;
let org: TestOrg;
let restore: () => void;
const DELIVERIES = 1_500;

beforeAll(async () => {
  restore = allowPrivateUrls();
  handle = await useTestDb();
  org = await createTestOrg(handle.db);
  if (usingPostgres) second = await openTestDb();
});

afterAll(async () => {
  await dropTestOrgs(handle.db, [org]);
  await second?.close();
  await handle.close();
  restore();
});

describe("delivery claims across servers", () => {
  it.runIf(usingPostgres)(
    "two servers claiming at once never lease the same delivery twice",
    async () => {
      const endpoints = await Promise.all(
        [1, 2, 3, 4].map((i) => createEndpoint(handle.db, org.ctx, { url: `http://127.0.0.1:9/claims-${i}`, event_types: [] }).then((r) => r.endpoint.id)),
      );
      const events = Array.from({ length: DELIVERIES }, (_, i) => ({
        id: newId("evt"),
        orgId: org.org.id,
        type: "client_created",
        recordType: "client",
        recordId: `cli_${i}`,
        data: {},
      }));
      for (let i = 0; i < events.length; i += 500) await handle.db.insert(webhookEvents).values(events.slice(i, i + 500));
      const deliveries = events.map((e, i) => ({ id: newId("dlv"), orgId: org.org.id, eventId: e.id, endpointId: endpoints[i % endpoints.length]! }));
      for (let i = 0; i < deliveries.length; i += 500) await handle.db.insert(webhookDeliveries).values(deliveries.slice(i, i + 500));

      // Four claim loops per server, each taking small bites until nothing is left.
      const claimed: string[] = [];
      const loop = async (db: DbHandle["db"]) => {
        for (;;) {
          const got = await claimDue(db, { limit: 25, perEndpoint: 1_000, leaseSeconds: 60, orgIds: [org.org.id] });
          if (got.length === 0) return;
          claimed.push(...got.map((c) => c.job.delivery.id));
        }
      };
      await Promise.all([handle.db, second.db].flatMap((db) => [loop(db), loop(db), loop(db), loop(db)]));

      const seen = new Map<string, number>();
      for (const id of claimed) seen.set(id, (seen.get(id) ?? 0) + 1);
      const twice = [...seen].filter(([, n]) => n > 1);
      expect(twice).toEqual([]);
      expect(seen.size).toBe(DELIVERIES);
    },
    120_000,
  );

  it("a delivery that is no longer pending is never claimed, even by a claim that started before it finished", async () => {
    const { endpoint } = await createEndpoint(handle.db, org.ctx, { url: "http://127.0.0.1:9/done", event_types: [] });
    const evt = { id: newId("evt"), orgId: org.org.id, type: "client_created", recordType: "client", recordId: "cli_done", data: {} };
    await handle.db.insert(webhookEvents).values(evt);
    const id = newId("dlv");
    await handle.db.insert(webhookDeliveries).values({ id, orgId: org.org.id, eventId: evt.id, endpointId: endpoint.id, status: "succeeded" });
    const claimIds = async () =>
      (await claimDue(handle.db, { limit: 10, perEndpoint: 10, leaseSeconds: 60, orgIds: [org.org.id] })).map((c) => c.job.delivery.id);
    expect(await claimIds()).not.toContain(id);
    await handle.db.update(webhookDeliveries).set({ status: "pending" }).where(eq(webhookDeliveries.id, id));
    expect(await claimIds()).toContain(id);
  });
});
