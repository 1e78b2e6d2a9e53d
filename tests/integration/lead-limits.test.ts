import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { clients, notifications } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { POST as leads } from "@/app/api/webhook/leads/route";
import * as me from "@/app/api/v1/me/route";
import * as records from "@/app/api/v1/records/[type]/route";
import { createTestOrg, dropTestOrgs, setRecordCount, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey, randomIp, fromRandomIp } from "../helpers/api";

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
});

async function newOrg(plan: "starter" | "business" = "starter") {
  const org = await createTestOrg(db, { plan });
  orgs.push(org);
  return org;
}

function sendLead(key: string, i: number, ip = randomIp()) {
  return leads(
    new Request("http://127.0.0.1/api/webhook/leads", {
      method: "POST",
      body: JSON.stringify({ name: `Lead ${i}`, email: `lead${i}@example.com` }),
      headers: { "content-type": "application/json", "x-api-key": key, ...fromRandomIp(ip) },
    }),
  );
}

describe("lead capture cannot starve its organization", () => {
  it("leads have their own bucket: a full form leaves the organization's API ceiling untouched", async () => {
    const org = await newOrg("starter"); // 60/min per key, 120/min for the organization's keys together
    const { key: leadsKey } = await makeKey(db, org, ["leads"], "site form");
    for (let i = 0; i < 60; i++) expect((await sendLead(leadsKey, i)).status).toBe(201);
    const over = await sendLead(leadsKey, 60);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    // Two integration keys still get their whole minute each: 120 calls, the organization's ceiling.
    for (const name of ["crm sync", "dashboard"]) {
      const { key } = await makeKey(db, org, ["read"], name);
      for (let i = 0; i < 60; i++) {
        const res = await call(me.GET, { key });
        expect(res.status, `${name} call ${i}`).toBe(200);
      }
    }
  }, 120_000);

  it("one client address cannot use up a form's whole bucket", async () => {
    const org = await newOrg("starter");
    const { key } = await makeKey(db, org, ["leads"], "site form");
    const ip = randomIp();
    for (let i = 0; i < 10; i++) expect((await sendLead(key, i, ip)).status).toBe(201);
    expect((await sendLead(key, 10, ip)).status).toBe(429);
    expect((await sendLead(key, 11)).status).toBe(201); // another visitor
  });

  it("leads stop at 90% of the record quota, the organization's own writes do not, and admins are told once", async () => {
    const org = await newOrg("starter"); // 1,000 records
    const { key: leadsKey } = await makeKey(db, org, ["leads"], "site form");
    const { key: apiKey } = await makeKey(db, org, ["read", "write"], "crm");
    await setRecordCount(db, org.org.id, 899);
    expect((await sendLead(leadsKey, 1)).status).toBe(201); // the 900th record
    for (let i = 2; i < 5; i++) {
      const refused = await sendLead(leadsKey, i);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({
        error: { code: "plan_limit_reached", message: expect.stringMatching(/Lead capture stops at 90% of your starter plan's 1,000 records \(900\)/) },
      });
    }
    const own = await call(records.POST, {
      method: "POST",
      key: apiKey,
      path: "/api/v1/records/client",
      params: { type: "client" },
      body: { name: "Booked by phone" },
    });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(await db.select().from(clients).where(eq(clients.orgId, org.org.id))).toHaveLength(2);
    const told = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "lead_quota")));
    expect(told.map((n) => n.userId).sort()).toEqual([org.users.owner.id, org.users.admin.id].sort());
  });

  it('leads arriving within a minute make one notification per member: "12 new leads"', async () => {
    const org = await newOrg("business");
    const { key } = await makeKey(db, org, ["leads"], "site form");
    for (let i = 0; i < 12; i++) expect((await sendLead(key, i)).status).toBe(201);
    const notes = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "lead")));
    expect(notes).toHaveLength(3); // owner, admin, member
    for (const n of notes) expect(n).toMatchObject({ count: 12, title: "12 new leads", link: "records/clients?status=lead" });

    // Read, or older than a minute: the next lead starts a notification of its own.
    await db.update(notifications).set({ readAt: new Date() }).where(eq(notifications.orgId, org.org.id));
    expect((await sendLead(key, 12)).status).toBe(201);
    const fresh = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.count, 1)));
    expect(fresh.map((n) => n.title)).toEqual(Array(3).fill("New lead: Lead 12"));
  });
});
