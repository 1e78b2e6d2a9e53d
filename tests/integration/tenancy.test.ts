import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { clients, invitations, memberships } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { ORG_ACTIONS } from "@/lib/actions";
import { createRecord } from "@/lib/records/pipeline";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey } from "../helpers/api";
import { apiKeys, connectors, imports, inboundRequests, inboundSources, organizations, webhookDeliveries, webhookEndpoints, workflowRules } from "@/db/schema";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";

/**
 * Every org-scoped server action, called by a member of org A against org B — by naming org B,
 * or by naming org A with one of org B's ids — must be refused and change nothing.
 */
let handle: DbHandle;
let db: Db;
let a: TestOrg;
let b: TestOrg;
let bClientId: string;
let bKeyId: string;
let bEndpointId: string;
let bDeliveryId: string;
let bImportId: string;
let bSourceId: string;
let bRequestId: string;
let bConnectorId: string;
let bRuleId: string;
let bInvitationId: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  a = await createTestOrg(db);
  b = await createTestOrg(db);
  bClientId = (await createRecord(b.ctx, "client", { name: "B's client" })).id;
  bKeyId = (await makeKey(db, b, ["read"])).apiKey.id;
  bEndpointId = newId("we");
  await db.insert(webhookEndpoints).values({
    id: bEndpointId,
    orgId: b.org.id,
    url: "https://b.example/hook",
    secretCiphertext: encrypt(generateSecret(), { orgId: b.org.id, column: "webhook_endpoints.secret" }),
  });
  await createRecord(b.ctx, "client", { name: "B's second client" });
  bDeliveryId = (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, bEndpointId)))[0]!.id;
  bImportId = newId("imp");
  await db.insert(imports).values({ id: bImportId, orgId: b.org.id, recordType: "client", filename: "b.csv", format: "csv", status: "draft" });
  bSourceId = newId("src");
  await db.insert(inboundSources).values({
    id: bSourceId,
    orgId: b.org.id,
    name: "B shop",
    kind: "shopify",
    secretCiphertext: encrypt("s", { orgId: b.org.id, column: "inbound_sources.secret" }),
    mapping: { target: "client", fields: { name: "n" } },
  });
  bRequestId = newId("inr");
  await db
    .insert(inboundRequests)
    .values({ id: bRequestId, orgId: b.org.id, sourceId: bSourceId, verified: true, status: "failed", httpStatus: 400, headers: {}, body: '{"n":"x"}' });
  bInvitationId = newId("ivt");
  await db.insert(invitations).values({
    id: bInvitationId,
    orgId: b.org.id,
    email: "invitee@example.test",
    role: "member",
    tokenHash: `test-${bInvitationId}`,
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  bConnectorId = newId("con");
  await db.insert(connectors).values({
    id: bConnectorId,
    orgId: b.org.id,
    name: "B feed",
    url: "https://b.example/feed",
    intervalMinutes: 60,
    pagination: { type: "none" },
    mapping: { target: "client", fields: { name: "n" } },
  });
  bRuleId = newId("wfr");
  await db.insert(workflowRules).values({
    id: bRuleId,
    orgId: b.org.id,
    name: "B rule",
    enabled: true,
    recordType: "client",
    trigger: "created",
    conditions: [],
    actions: [{ type: "notify", audience: "members", title: "hi" }],
  });
});

const clientRule = (extra: object[] = []) =>
  JSON.stringify({ name: "r", record_type: "client", trigger: "created", actions: [{ type: "notify", audience: "members", title: "x" }, ...extra] });

afterAll(async () => {
  await dropTestOrgs(db, [a, b]);
  await handle.close();
});

/** A valid-looking input for each action, aimed at `org` and at org B's records and users. */
function inputFor(name: string, org: string): Record<string, unknown> {
  switch (name) {
    case "createRecordAction":
      return { org, type: "client", "f.name": "Intruder" };
    case "updateRecordAction":
      return { org, type: "client", id: bClientId, "f.name": "Hijacked" };
    case "deleteRecordAction":
      return { org, type: "client", id: bClientId };
    case "inviteMemberAction":
      return { org, email: b.users.member.email, role: "admin" };
    case "resendInvitationAction":
    case "revokeInvitationAction":
      return { org, id: bInvitationId };
    case "changeMemberRoleAction":
      return { org, userId: b.users.member.id, role: "owner" };
    case "removeMemberAction":
      return { org, userId: b.users.member.id };
    case "renameOrganizationAction":
      return { org, name: "Renamed by an intruder" };
    case "markNotificationsReadAction":
      return { org };
    case "createApiKeyAction":
      return { org, name: "intruder", scopes: ["admin"] };
    case "rotateApiKeyAction":
      return { org, id: bKeyId, grace: "7d" };
    case "revokeApiKeyAction":
      return { org, id: bKeyId };
    case "updateLeadSettingsAction":
      return { org, allowedOrigins: "https://evil.example", redirectUrls: "" };
    case "createLeadChannelAction":
      return { org, kind: "google_ads_leads", name: "intruder" };
    case "createWebhookAction":
      return { org, url: "https://203.0.113.9/steal", events: "all" };
    case "updateWebhookAction":
      return { org, id: bEndpointId, enabled: "false" };
    case "updateWebhookFilterAction":
      return { org, id: bEndpointId, filter: '[{"field":"data.status","op":"equals","value":"x"}]' };
    case "previewWebhookFilterAction":
      return { org, id: bEndpointId, filter: "[]" };
    case "updateWebhookDeliveryAction":
      return { org, id: bEndpointId, rateLimit: "1", ordering: "per_record", headers: "X-Stolen: yes", authType: "bearer", token: "intruder" };
    case "rotateWebhookSecretAction":
      return { org, id: bEndpointId, grace: "none" };
    case "revealWebhookSecretAction":
      return { org, id: bEndpointId };
    case "deleteWebhookAction":
      return { org, id: bEndpointId };
    case "sendTestWebhookAction":
      return { org, id: bEndpointId, eventType: "client_created" };
    case "redeliverAction":
      return { org, deliveryId: bDeliveryId };
    case "redeliverFailedAction":
      return { org, id: bEndpointId, since: "2020-01-01" };
    case "previewImportAction":
    case "startImportAction":
    case "dryRunImportAction":
      return { org, id: bImportId, mapping: JSON.stringify({ target: "client", fields: { name: "Name" } }) };
    case "importStatusAction":
    case "undoImportAction":
      return { org, id: bImportId };
    case "createSourceAction":
      return { org, name: "mine", kind: "shopify", mapping: JSON.stringify({ target: "client", fields: { name: "n" } }) };
    case "updateSourceAction":
      return { org, id: bSourceId, enabled: "false" };
    case "rotateSourceSecretAction":
    case "revealSourceSecretAction":
    case "deleteSourceAction":
      return { org, id: bSourceId };
    case "reprocessInboundAction":
      return { org, requestId: bRequestId };
    case "previewMappingAction":
      return { org, mapping: JSON.stringify({ target: "client", fields: { name: "n" } }), sample: JSON.stringify({ n: "x" }) };
    case "createConnectorAction":
      return {
        org,
        name: "x",
        url: "https://203.0.113.7/feed",
        intervalMinutes: "60",
        pagination: '{"type":"none"}',
        mapping: JSON.stringify({ target: "client", fields: { name: "n" } }),
      };
    case "updateConnectorAction":
      return { org, id: bConnectorId, enabled: "false" };
    case "runConnectorAction":
    case "deleteConnectorAction":
      return { org, id: bConnectorId };
    case "updateAuditRetentionAction":
      return { org, auditDays: "30", requestDays: "7" };
    case "createWorkflowAction":
      return { org, rule: clientRule([{ type: "webhook", endpoint_id: bEndpointId }]) };
    case "updateWorkflowAction":
      return { org, id: bRuleId, rule: clientRule() };
    case "setWorkflowEnabledAction":
      return { org, id: bRuleId, enabled: "false" };
    case "deleteWorkflowAction":
      return { org, id: bRuleId };
    case "testWorkflowAction":
      return { org, rule: clientRule(), recordId: bClientId };
    default:
      throw new Error(`No tenancy input for action ${name}: add one to this suite.`);
  }
}

async function snapshotB() {
  const [cl] = await db.select().from(clients).where(eq(clients.id, bClientId));
  const mem = await db.select().from(memberships).where(eq(memberships.orgId, b.org.id));
  const keys = await db.select().from(apiKeys).where(eq(apiKeys.orgId, b.org.id));
  const [orgRow] = await db.select().from(organizations).where(eq(organizations.id, b.org.id));
  const endpoints = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, b.org.id));
  const deliveries = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.orgId, b.org.id));
  const [imp] = await db.select().from(imports).where(eq(imports.id, bImportId));
  const [src] = await db.select().from(inboundSources).where(eq(inboundSources.id, bSourceId));
  const [req] = await db.select().from(inboundRequests).where(eq(inboundRequests.id, bRequestId));
  const [con] = await db.select().from(connectors).where(eq(connectors.id, bConnectorId));
  const rules = await db.select().from(workflowRules).where(eq(workflowRules.orgId, b.org.id));
  const invites = await db.select().from(invitations).where(eq(invitations.orgId, b.org.id));
  return {
    invitations: JSON.stringify(invites),
    rules: JSON.stringify(rules),
    retention: `${orgRow!.auditRetentionDays}/${orgRow!.requestLogRetentionDays}`,
    source: JSON.stringify(src),
    request: JSON.stringify(req),
    connector: JSON.stringify(con),
    importStatus: imp!.status,
    endpoints: JSON.stringify(endpoints),
    deliveries: deliveries.length,
    client: cl,
    members: mem.map((m) => `${m.userId}:${m.role}`).sort(),
    keys: keys.map((k) => `${k.id}:${k.revokedAt}:${k.expiresAt}`).sort(),
    origins: orgRow!.leadAllowedOrigins,
  };
}

describe.each(Object.entries(ORG_ACTIONS))("server action %s", (name, action) => {
  it("refuses a caller who is not a member of the named org", async () => {
    const before = await snapshotB();
    const result = await action.invoke(a.users.owner.id, inputFor(name, b.org.slug));
    expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
    const byId = await action.invoke(a.users.owner.id, inputFor(name, b.org.id));
    expect(byId).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await snapshotB()).toEqual(before);
  });

  it("cannot reach another org's records or members through the caller's own org", async () => {
    const before = await snapshotB();
    const result = await action.invoke(a.users.owner.id, inputFor(name, a.org.slug));
    if (
      [
        "createRecordAction",
        "markNotificationsReadAction",
        "inviteMemberAction",
        "createApiKeyAction",
        "updateLeadSettingsAction",
        "createLeadChannelAction",
        "createWebhookAction",
        "createSourceAction",
        "previewMappingAction",
        "createConnectorAction",
        "updateAuditRetentionAction",
        "createWorkflowAction",
        "renameOrganizationAction",
      ].includes(name)
    ) {
      // These touch only org A; the point is that org B is unchanged.
      expect(result.ok || result.error.code !== "internal_error").toBe(true);
    } else {
      expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
    }
    expect(await snapshotB()).toEqual(before);
  });

  it("refuses an anonymous caller", async () => {
    expect(await action.invoke(null, inputFor(name, a.org.slug))).toMatchObject({ ok: false, error: { code: "unauthorized" } });
  });

  it(`requires at least the ${action.role} role`, async () => {
    if (action.role === "member") return;
    const result = await action.invoke(a.users.member.id, inputFor(name, a.org.slug));
    expect(result).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});

describe("record actions for a member of the org", () => {
  it("create, update and delete through the pipeline", async () => {
    const created = await ORG_ACTIONS.createRecordAction.invoke(a.users.member.id, {
      org: a.org.slug,
      type: "client",
      "f.name": "Made in the UI",
      "f.email": "",
      "f.status": "lead",
    });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.data).toMatchObject({ name: "Made in the UI", email: null, status: "lead" });
    const updated = await ORG_ACTIONS.updateRecordAction.invoke(a.users.member.id, { org: a.org.slug, type: "client", id: created.data.id, "f.phone": "555" });
    expect(updated).toMatchObject({ ok: true, data: { phone: "555", version: 2 } });
    const invalid = await ORG_ACTIONS.updateRecordAction.invoke(a.users.member.id, { org: a.org.slug, type: "client", id: created.data.id, "f.email": "bad" });
    expect(invalid).toMatchObject({ ok: false, error: { code: "validation_failed", details: [{ path: "email" }] } });
    const deleted = await ORG_ACTIONS.deleteRecordAction.invoke(a.users.member.id, { org: a.org.slug, type: "client", id: created.data.id });
    expect(deleted.ok).toBe(true);
  });
});
