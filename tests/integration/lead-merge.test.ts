import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { clients, leadCaptures, notifications, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { POST } from "@/app/api/webhook/leads/route";
import { updateLeadSettings } from "@/lib/leads/settings";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let other: TestOrg;
let leadsKey: string;
let otherKey: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  other = await createTestOrg(db, { plan: "business" });
  leadsKey = (await makeKey(db, org, ["leads"], "website form")).key;
  otherKey = (await makeKey(db, other, ["leads"], "website form")).key;
  await updateLeadSettings(db, org.ctx, { allowedOrigins: [], redirectUrls: [], defaultCountry: "GB" });
});

afterAll(async () => {
  await dropTestOrgs(db, [org, other]);
  await handle.close();
});

async function post(key: string, body: Record<string, string>) {
  const res = await POST(
    new Request("http://127.0.0.1/api/webhook/leads", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { ...fromRandomIp(), "content-type": "application/json", "x-api-key": key },
    }),
  );
  return { status: res.status, body: await res.json() };
}

const clientsOf = (orgId: string, name: string) =>
  db
    .select()
    .from(clients)
    .where(and(eq(clients.orgId, orgId), eq(clients.name, name)));

describe("repeat leads merge", () => {
  it("the same person by email, then by phone written differently, is one client with two history entries", async () => {
    const first = await post(leadsKey, { name: "Jo Repeat", email: "JO@Example.com", phone: "020 7946 0958", message: "Quote for a deep clean" });
    expect(first.status).toBe(201);
    expect(first.body.lead).toEqual({ client_id: first.body.id, new: true });

    const second = await post(leadsKey, { name: "Jo Repeat", phone: "+44 20-7946-0958", message: "Still interested?", budget: "300" });
    expect(second.status).toBe(200);
    expect(second.body.lead).toEqual({ client_id: first.body.id, new: false });

    const third = await post(leadsKey, { name: "Jo R.", email: "  jo@example.COM " });
    expect(third.body.lead).toEqual({ client_id: first.body.id, new: false });

    expect(await clientsOf(org.org.id, "Jo Repeat")).toHaveLength(1);
    expect(await clientsOf(org.org.id, "Jo R.")).toHaveLength(0);
    const history = await db.select().from(leadCaptures).where(eq(leadCaptures.clientId, first.body.id)).orderBy(leadCaptures.createdAt, leadCaptures.id);
    expect(history.map((h) => [h.channel, h.created, h.message])).toEqual([
      ["api", true, "Quote for a deep clean"],
      ["api", false, "Still interested?"],
      ["api", false, null],
    ]);
    expect(history[1]!.fields).toMatchObject({ budget: "300" });

    // The third came within a minute of the second: kept in the history, but one update and one
    // notification (to each of the three members) for the burst.
    const events = await db.select().from(webhookEvents).where(eq(webhookEvents.recordId, first.body.id));
    expect(events.filter((e) => e.type === "client_updated")).toHaveLength(1);
    const returning = () =>
      db
        .select()
        .from(notifications)
        .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "returning_lead")));
    expect(await returning()).toHaveLength(3);
    expect((await returning())[0]!.title).toBe("Returning lead: Jo Repeat");

    // A minute later, a return updates and notifies again.
    const [row] = await db.select().from(clients).where(eq(clients.id, first.body.id));
    await db
      .update(clients)
      .set({ customFields: { ...row!.customFields, last_lead_at: new Date(Date.now() - 61_000).toISOString() } })
      .where(eq(clients.id, first.body.id));
    await post(leadsKey, { name: "Jo", phone: "02079460958" });
    const after = await db.select().from(webhookEvents).where(eq(webhookEvents.recordId, first.body.id));
    expect(after.filter((e) => e.type === "client_updated")).toHaveLength(2);
    expect(await returning()).toHaveLength(6);
  });

  it("the same new person posted 20 times at once is one client with 20 history entries", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(leadsKey, { name: "Burst Person", email: "burst@example.com", message: "hi" })));
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true);
    const made = await clientsOf(org.org.id, "Burst Person");
    expect(made).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.lead.client_id))).toEqual(new Set([made[0]!.id]));
    expect(answers.filter((a) => a.body.lead.new)).toHaveLength(1);
    expect(await db.select().from(leadCaptures).where(eq(leadCaptures.clientId, made[0]!.id))).toHaveLength(20);
  });

  it("never matches a client of another organization", async () => {
    await post(leadsKey, { name: "Cross Org", email: "cross@example.com" });
    const res = await post(otherKey, { name: "Cross Org", email: "cross@example.com" });
    expect(res.status).toBe(201);
    expect(res.body.lead.new).toBe(true);
    expect(await clientsOf(other.org.id, "Cross Org")).toHaveLength(1);
  });

  it("creates a second client when the organization turned merging off", async () => {
    await updateLeadSettings(db, org.ctx, { allowedOrigins: [], redirectUrls: [], merge: false });
    try {
      await post(leadsKey, { name: "No Merge", email: "nomerge@example.com" });
      const again = await post(leadsKey, { name: "No Merge", email: "nomerge@example.com" });
      expect(again.status).toBe(201);
      expect(again.body.lead.new).toBe(true);
      expect(await clientsOf(org.org.id, "No Merge")).toHaveLength(2);
    } finally {
      await updateLeadSettings(db, org.ctx, { allowedOrigins: [], redirectUrls: [], merge: true });
    }
  });

  it("refuses an unknown default country with the error envelope", async () => {
    await expect(updateLeadSettings(db, org.ctx, { allowedOrigins: [], redirectUrls: [], defaultCountry: "XX" })).rejects.toMatchObject({
      code: "validation_failed",
    });
  });
});
