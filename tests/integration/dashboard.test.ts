import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import {
  connectorRuns,
  connectors,
  imports,
  inboundRequests,
  inboundSources,
  memberships,
  users,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";
import { createRecord } from "@/lib/records/pipeline";
import { dashboardStats } from "@/lib/dashboard/stats";
import { recordApiCall, flushUsage } from "@/lib/api-keys/usage";
import { planUsage } from "@/lib/orgs/service";
import { inviteMember } from "@/lib/orgs/invitations";
import { sendTestEvent } from "@/lib/webhooks/delivery-log";
import { createTestOrg, dropTestOrgs, uniq, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let org: TestOrg;
let quiet: TestOrg;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "pro" });
  quiet = await createTestOrg(db, { plan: "starter" });
});

afterAll(async () => {
  await dropTestOrgs(db, [org, quiet]);
  await handle.close();
  restoreEnv();
});

describe("the integrations dashboard", () => {
  it("counts the last 30 days by day and lists the busiest integrations with their health", async () => {
    const key = await makeKey(db, org, ["leads"]);
    const leadCtx = { orgId: org.org.id, actor: { type: "api_key" as const, id: key.apiKey.id, label: key.apiKey.prefix }, source: "lead_capture" as const };
    for (let i = 0; i < 3; i++) await createRecord(leadCtx, "client", { name: `Form lead ${i}`, status: "lead", source: "website" });
    await createRecord(leadCtx, "client", { name: "Ad lead", status: "lead", source: "google ads" });
    await createRecord(org.ctx, "client", { name: "Typed, not a lead", status: "active" });

    const healthy = newId("we");
    const dead = newId("we");
    await db.insert(webhookEndpoints).values([
      // Nothing listens on port 9: the test event below fails at once, without leaving the machine.
      {
        id: healthy,
        orgId: org.org.id,
        url: "http://127.0.0.1:9/hook",
        description: "CRM sync",
        secretCiphertext: encrypt(generateSecret(), { orgId: org.org.id, column: "webhook_endpoints.secret" }),
      },
      {
        id: dead,
        orgId: org.org.id,
        url: "https://gone.example/hook",
        secretCiphertext: encrypt(generateSecret(), { orgId: org.org.id, column: "webhook_endpoints.secret" }),
        status: "disabled",
        disabledReason: "every delivery failed for 5 days",
      },
    ]);
    // Deliveries of one of the pipeline's events: five delivered, two failed for good.
    const [{ id: firstEvent }] = (await db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.orgId, org.org.id)).limit(1)) as [
      { id: string },
    ];
    await db
      .insert(webhookDeliveries)
      .values([
        ...Array.from({ length: 5 }, () => ({ id: newId("dlv"), orgId: org.org.id, eventId: firstEvent, endpointId: healthy, status: "succeeded" as const })),
        ...Array.from({ length: 2 }, () => ({ id: newId("dlv"), orgId: org.org.id, eventId: firstEvent, endpointId: dead, status: "failed" as const })),
      ]);
    // A test event is not traffic.
    const ctx = { orgId: org.org.id, actor: org.ctx.actor, source: "ui" as const };
    expect((await sendTestEvent(db, ctx, healthy, "client_created")).outcome.decision.kind).not.toBe("succeeded");

    const sourceId = newId("src");
    await db.insert(inboundSources).values({
      id: sourceId,
      orgId: org.org.id,
      name: "Shop",
      kind: "shopify",
      secretCiphertext: encrypt("s", { orgId: org.org.id, column: "inbound_sources.secret" }),
      mapping: { target: "client", fields: { name: "n" } },
    });
    await db.insert(inboundRequests).values([
      { id: newId("inr"), orgId: org.org.id, sourceId, verified: true, status: "processed", httpStatus: 200, headers: {}, body: "{}" },
      { id: newId("inr"), orgId: org.org.id, sourceId, verified: false, status: "rejected", httpStatus: 401, headers: {}, body: "{}" },
    ]);
    const connectorId = newId("con");
    await db.insert(connectors).values({
      id: connectorId,
      orgId: org.org.id,
      name: "Bookings feed",
      url: "https://feed.example",
      intervalMinutes: 60,
      pagination: { type: "none" },
      mapping: { target: "client", fields: { name: "n" } },
    });
    await db
      .insert(connectorRuns)
      .values({ id: newId("run"), orgId: org.org.id, connectorId, status: "succeeded", trigger: "schedule", startedAt: new Date(), created: 4, updated: 2 });
    await db
      .insert(imports)
      .values({ id: newId("imp"), orgId: org.org.id, recordType: "client", filename: "a.csv", format: "csv", status: "completed", created: 10, failed: 1 });

    recordApiCall(org.org.id, key.apiKey.id);
    recordApiCall(org.org.id, key.apiKey.id);
    await flushUsage(db);
    recordApiCall(org.org.id, key.apiKey.id); // still in memory: counted too

    const stats = await dashboardStats(db, org.org.id);
    expect(stats.days).toHaveLength(30);
    expect(stats.days.at(-1)).toBe(new Date().toISOString().slice(0, 10));
    expect(stats.totals).toEqual({ apiCalls: 3, leads: 4, delivered: 5, failed: 2 });
    expect(stats.leads.at(-1)).toBe(4);
    expect(stats.leadsBySource).toEqual([
      { label: "website", count: 3 },
      { label: "google ads", count: 1 },
    ]);
    const byLabel = Object.fromEntries(stats.integrations.map((i) => [i.label, i]));
    expect(byLabel["website → lead"]).toMatchObject({ detail: "3 leads", health: "ok" });
    expect(byLabel["website → lead"]!.href).toContain("source=lead_capture");
    expect(byLabel["Webhook CRM sync"]).toMatchObject({ detail: "5 deliveries, 0 failures", health: "ok", href: `settings/webhooks/${healthy}` });
    expect(byLabel["Webhook https://gone.example/hook"]).toMatchObject({ health: "failing" });
    expect(byLabel["Webhook https://gone.example/hook"]!.detail).toContain("2 failures after 6 attempts");
    expect(byLabel["Inbound Shop"]).toMatchObject({ detail: "2 requests, 1 failed or refused", health: "warning" });
    expect(byLabel["Connector Bookings feed"]).toMatchObject({ detail: "1 run, 6 records in", health: "ok" });
    expect(byLabel["File imports"]).toMatchObject({ detail: "1 file, 10 records in, 1 row failed" });
    // Busiest first.
    expect(stats.integrations[0]!.label).toBe("Webhook CRM sync");

    const empty = await dashboardStats(db, quiet.org.id);
    expect(empty.totals).toEqual({ apiCalls: 0, leads: 0, delivered: 0, failed: 0 });
    expect(empty.integrations).toEqual([]);
  });
});

describe("plans", () => {
  it("reports use against each limit and refuses a member past the plan's limit", async () => {
    // Starter: 5 members; the test org has 3.
    const ctx = { orgId: quiet.org.id, actor: quiet.ctx.actor, source: "ui" as const };
    const emails: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = `${uniq("m")}@example.test`;
      emails.push(email);
      await db.insert(users).values({ id: newId("usr"), email, name: "m", passwordHash: "x" });
    }
    for (const email of emails.slice(0, 2)) {
      const [u] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
      await db.insert(memberships).values({ orgId: quiet.org.id, userId: u!.id, role: "member" });
    }
    const inviter = { ...ctx, inviterRole: "owner" as const, inviterEmail: "owner@example.test" };
    await expect(inviteMember(db, inviter, { email: emails[2]!, role: "member" })).rejects.toMatchObject({ code: "plan_limit_reached" });
    await makeKey(db, quiet, ["read"]);
    expect(await planUsage(db, quiet.org.id)).toEqual({
      records: 0,
      apiKeys: 1,
      webhookEndpoints: 0,
      members: 5,
      inboundSources: 0,
      connectors: 0,
      workflowRules: 0,
    });
    await db.delete(users).where(eq(users.email, emails[0]!));
    await db.delete(users).where(eq(users.email, emails[1]!));
    await db.delete(users).where(eq(users.email, emails[2]!));
  });
});
