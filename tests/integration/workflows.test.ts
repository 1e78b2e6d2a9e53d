import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, asc, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { auditLog, clients, notifications, opportunities } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { ORG_ACTIONS } from "@/lib/actions";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { createRule, setRuleEnabled, testRule, updateRule } from "@/lib/workflows/rules";
import * as one from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import * as imports from "@/app/api/v1/imports/route";
import * as importOne from "@/app/api/v1/imports/[id]/route";
import { feedWhen } from "../helpers/feed";
import { expectConforms, loadDocument } from "../helpers/openapi";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey, fromRandomIp } from "../helpers/api";
import { startReceiver, waitFor } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";

/**
 * The rule of the issue, "when an opportunity's stage changes to closed_won, set its client's
 * status to active and send a webhook", fired through four doors — a UI edit, an API PATCH, a
 * bulk upsert and an import row — must do exactly the same each time, and never loop.
 */
let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let worker: DeliveryWorker;
let org: TestOrg;
let key: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let secret: string;
let endpointId: string;
let ruleId: string;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["read", "write", "bulk"])).key;
  receiver = await startReceiver();
  const ep = await createEndpoint(db, org.ctx, { url: receiver.url, event_types: ["invoice_paid"] });
  secret = ep.secret;
  endpointId = ep.endpoint.id;
  const rule = await createRule(
    db,
    org.ctx,
    {
      name: "Won deal activates client",
      enabled: true,
      record_type: "opportunity",
      trigger: "field_changed",
      trigger_field: "stage",
      conditions: [{ field: "stage", op: "changed_to", value: "closed_won" }],
      actions: [
        { type: "set_field", target: "client_id", field: "status", value: "active" },
        { type: "webhook", endpoint_id: endpointId },
        { type: "notify", audience: "admins", title: "Won: {{title}}" },
      ],
    },
    org.users.owner.id,
  );
  ruleId = rule.id;
  // A rule that would loop forever if a rule's own writes ran rules: every client update sets
  // the client's source, which is itself a client update.
  await createRule(
    db,
    org.ctx,
    {
      name: "Tag updated clients",
      enabled: true,
      record_type: "client",
      trigger: "updated",
      actions: [{ type: "set_field", target: "self", field: "source", value: "touched by a rule" }],
    },
    null,
  );
  worker = startWorker(db, { pollMs: 100, orgIds: () => [org.org.id] });
});

afterAll(async () => {
  await worker.stop();
  await receiver.close();
  await dropTestOrgs(db, [org]);
  await handle.close();
  restoreEnv();
});

/** A lead client with an open opportunity, both created through the pipeline (no rule fires). */
async function deal(label: string, externalId?: string) {
  const client = await createRecord({ ...org.ctx, skipWorkflows: true }, "client", { name: `${label} client`, status: "lead" });
  const opp = await createRecord(org.ctx, "opportunity", {
    title: `${label} deal`,
    client_id: client.id,
    stage: "proposal",
    value: 1200,
    external_id: externalId,
  });
  return { client, opp };
}

const received = (oppId: string) =>
  receiver.received
    .map(
      (r) =>
        new Webhook(secret).verify(r.body, r.headers) as {
          type: string;
          data: { object: string; rule: { id: string }; record: { id: string; stage: string } };
        },
    )
    .filter((p) => p.data.record?.id === oppId);

/** What the rule did for one opportunity: the same answer is expected whatever the door. */
async function effects(clientId: string, oppId: string) {
  const [client] = await db.select().from(clients).where(eq(clients.id, clientId));
  const firings = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.action, "workflow.fired"), eq(auditLog.targetId, oppId)));
  const clientChanges = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.targetId, clientId), eq(auditLog.action, "client.updated")))
    .orderBy(asc(auditLog.createdAt));
  const hooks = await waitFor(() => (received(oppId).length >= 1 ? received(oppId) : null), { what: "workflow webhook" });
  await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
  return {
    clientStatus: client!.status,
    clientSource: client!.source,
    clientVersion: client!.version,
    firings: firings.map((f) => ({
      actor: `${f.actorType}:${f.actorId}`,
      source: f.source,
      actions: (f.after as { actions: { type: string; ok: boolean }[] }).actions.map((a) => `${a.type}:${a.ok}`),
    })),
    clientChanges: clientChanges.map((c) => ({ actor: `${c.actorType}:${c.actorId}`, after: c.after })),
    webhooks: received(oppId).map((p) => ({ type: p.type, object: p.data.object, rule: p.data.rule.id, stage: p.data.record.stage })),
    hooksVerified: hooks.length,
  };
}

const expected = (source: string) => ({
  clientStatus: "active",
  clientSource: null, // the client-update rule did not run on the rule's own write
  clientVersion: 2,
  firings: [{ actor: `workflow:${ruleId}`, source, actions: ["set_field:true", "webhook:true", "notify:true"] }],
  clientChanges: [{ actor: `workflow:${ruleId}`, after: { status: "active" } }],
  webhooks: [{ type: "workflow_triggered", object: "workflow_trigger", rule: ruleId, stage: "closed_won" }],
  hooksVerified: 1,
});

describe("a workflow rule fires the same through every door", () => {
  it("a UI edit", async () => {
    const { client, opp } = await deal("UI");
    const res = await ORG_ACTIONS.updateRecordAction.invoke(org.users.member.id, {
      org: org.org.slug,
      type: "opportunity",
      id: opp.id,
      "f.stage": "closed_won",
    });
    expect(res.ok).toBe(true);
    expect(await effects(client.id, opp.id)).toEqual(expected("ui"));
  });

  it("an API PATCH", async () => {
    const { client, opp } = await deal("API");
    const res = await call(one.PATCH, {
      method: "PATCH",
      key,
      path: `/api/v1/records/opportunity/${opp.id}`,
      params: { type: "opportunity", id: opp.id },
      body: { stage: "closed_won" },
    });
    expect(res.status).toBe(200);
    expect(await effects(client.id, opp.id)).toEqual(expected("api"));
  });

  it("a bulk upsert", async () => {
    const { client, opp } = await deal("Bulk", "bulk-deal-1");
    const res = await call(bulk.POST, {
      method: "POST",
      key,
      path: "/api/v1/records/opportunity/bulk",
      params: { type: "opportunity" },
      body: { records: [{ external_id: "bulk-deal-1", stage: "closed_won" }] },
    });
    expect(res.status).toBe(200);
    expect(await effects(client.id, opp.id)).toEqual(expected("api"));
  });

  it("an import row", async () => {
    const { client, opp } = await deal("Import", "import-deal-1");
    const form = new FormData();
    form.set("type", "opportunity");
    form.set(
      "mapping",
      JSON.stringify({ target: "opportunity", external_id: "Deal ID", fields: { stage: { from: "Stage", map: { "Closed Won": "closed_won" } } } }),
    );
    form.set("file", new Blob(["Deal ID,Stage\nimport-deal-1,Closed Won\n"]), "deals.csv");
    const req = new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body: form, headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } });
    const started = (await (await imports.POST(req, { params: Promise.resolve({}) })).json()) as { id: string };
    await waitFor(
      async () => {
        const r = await importOne.GET(
          new Request(`http://127.0.0.1/api/v1/imports/${started.id}`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
          { params: Promise.resolve({ id: started.id }) },
        );
        const s = (await r.json()) as { status: string; updated: number };
        return s.status === "completed" ? s : null;
      },
      { what: "import" },
    );
    expect(await effects(client.id, opp.id)).toEqual(expected("import"));
  });

  it("each firing is in the events feed, in the documented shape", async () => {
    // The feed shows an event once every older transaction on the server has ended: wait for it.
    const mine = (data: Record<string, unknown>[]) => (data as { data: { rule: { id: string } } }[]).filter((e) => e.data.rule.id === ruleId);
    const res = await feedWhen(key, "type=workflow_triggered&limit=100", (data) => mine(data).length >= 4);
    expect(res.status).toBe(200);
    expectConforms(await loadDocument(), "get", "/api/v1/events", 200, res.body);
    expect(mine(res.body.data)).toHaveLength(4);
  });
});

describe("workflow rules", () => {
  it("fire only on the change they name, and notify the audience they name", async () => {
    const { client, opp } = await deal("Once");
    await updateRecord(org.ctx, "opportunity", opp.id, { stage: "closed_won" });
    await updateRecord(org.ctx, "opportunity", opp.id, { value: 5000 }); // still closed_won: not a change to it
    const firings = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "workflow.fired"), eq(auditLog.targetId, opp.id)));
    expect(firings).toHaveLength(1);
    const [c] = await db.select().from(clients).where(eq(clients.id, client.id));
    expect(c!.version).toBe(2);
    const notes = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.title, "Won: Once deal")));
    expect(notes.map((n) => n.userId).sort()).toEqual([org.users.owner.id, org.users.admin.id].sort());
  });

  it("cannot loop: a rule that updates the record it listens to runs once per outside change", async () => {
    const client = await createRecord(org.ctx, "client", { name: "Loop candidate" });
    const after = await updateRecord(org.ctx, "client", client.id, { phone: "555-0101" });
    // The API answer already shows the rule's change.
    expect(after).toMatchObject({ phone: "555-0101", source: "touched by a rule", version: 3 });
    const firings = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "workflow.fired"), eq(auditLog.targetId, client.id)));
    expect(firings).toHaveLength(1);
  });

  it("a disabled rule does nothing; re-enabled, it fires again", async () => {
    await setRuleEnabled(db, org.ctx, ruleId, false);
    const { client, opp } = await deal("Disabled");
    await updateRecord(org.ctx, "opportunity", opp.id, { stage: "closed_won" });
    expect((await db.select().from(clients).where(eq(clients.id, client.id)))[0]!.status).toBe("lead");
    await setRuleEnabled(db, org.ctx, ruleId, true);
    await updateRecord(org.ctx, "opportunity", opp.id, { stage: "negotiation" });
    await updateRecord(org.ctx, "opportunity", opp.id, { stage: "closed_won" });
    expect((await db.select().from(clients).where(eq(clients.id, client.id)))[0]!.status).toBe("active");
  });

  it("records a failing action in the firing without refusing the change that triggered it", async () => {
    const rule = await createRule(
      db,
      org.ctx,
      {
        name: "Needs a client",
        enabled: true,
        record_type: "opportunity",
        trigger: "created",
        conditions: [{ field: "title", op: "contains", value: "orphan" }],
        actions: [{ type: "set_field", target: "client_id", field: "status", value: "inactive" }],
      },
      null,
    );
    const opp = await createRecord(org.ctx, "opportunity", { title: "An orphan deal" });
    expect(opp.title).toBe("An orphan deal");
    const [firing] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "workflow.fired"), eq(auditLog.targetId, opp.id), eq(auditLog.actorId, rule.id)));
    expect((firing!.after as { actions: { ok: boolean; error: string }[] }).actions[0]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no client_id/),
    });
    await setRuleEnabled(db, org.ctx, rule.id, false);
  });

  it("refuses rules that name unknown fields, values that do not fit, or another org's endpoint", async () => {
    const other = await createTestOrg(db);
    try {
      const foreign = await createEndpoint(db, other.ctx, { url: receiver.url });
      const bad = await createRule(
        db,
        org.ctx,
        {
          name: "Broken",
          record_type: "opportunity",
          trigger: "field_changed",
          conditions: [
            { field: "colour", op: "equals", value: "red" },
            { field: "stage", op: "equals" },
          ],
          actions: [
            { type: "set_field", target: "client_id", field: "status", value: "vip" },
            { type: "set_field", target: "invoice_id", field: "status", value: "paid" },
            { type: "webhook", endpoint_id: foreign.endpoint.id },
          ],
        },
        null,
      ).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: "validation_failed" });
      const paths = (bad as { details: { path: string }[] }).details.map((d) => d.path);
      expect(paths).toEqual(
        expect.arrayContaining(["trigger_field", "conditions.0.field", "conditions.1.value", "actions.0.value", "actions.1.target", "actions.2.endpoint_id"]),
      );
    } finally {
      await dropTestOrgs(db, [other]);
    }
  });

  it("can be tried against an existing record without writing anything", async () => {
    const { client, opp } = await deal("Dry run");
    await db.update(opportunities).set({ stage: "closed_won" }).where(eq(opportunities.id, opp.id));
    const rule = {
      name: "Try me",
      record_type: "opportunity",
      trigger: "field_changed",
      trigger_field: "stage",
      conditions: [
        { field: "stage", op: "changed_to", value: "closed_won" },
        { field: "value", op: "greater_than", value: 1000 },
      ],
      actions: [{ type: "set_field", target: "client_id", field: "status", value: "active" }],
    };
    const result = await testRule(db, org.org.id, rule, opp.id);
    expect(result.wouldFire).toBe(true);
    expect(result.conditions.map((c) => c.holds)).toEqual([true, true]);
    expect(result.actions[0]).toContain(client.id);
    const miss = await testRule(db, org.org.id, { ...rule, conditions: [{ field: "value", op: "greater_than", value: 5000 }] }, opp.id);
    expect(miss).toMatchObject({ wouldFire: false, conditions: [{ holds: false, actual: 1200 }] });
    expect((await db.select().from(clients).where(eq(clients.id, client.id)))[0]!.status).toBe("lead");
    await expect(testRule(db, org.org.id, rule, "opp_doesnotexist")).rejects.toMatchObject({ code: "not_found" });
  });

  it("tries a 'changes to' rule on a record that has not changed yet, as if it just had", async () => {
    const { client, opp } = await deal("Not won yet");
    const rule = {
      name: "Won deal",
      record_type: "opportunity",
      trigger: "field_changed",
      trigger_field: "stage",
      conditions: [{ field: "stage", op: "changed_to", value: "closed_won" }],
      actions: [{ type: "set_field", target: "client_id", field: "status", value: "active" }],
    };
    const result = await testRule(db, org.org.id, rule, opp.id);
    expect(result).toMatchObject({ wouldFire: true, simulated: `stage: "proposal" → "closed_won"`, conditions: [{ holds: true, actual: "closed_won" }] });
    expect(result.actions[0]).toContain(client.id);
    expect((await db.select().from(opportunities).where(eq(opportunities.id, opp.id)))[0]!.stage).toBe("proposal");
  });

  it("keeps a rule's edit history in the audit log", async () => {
    await updateRule(db, org.ctx, ruleId, {
      name: "Won deal activates client (v2)",
      enabled: true,
      record_type: "opportunity",
      trigger: "field_changed",
      trigger_field: "stage",
      conditions: [{ field: "stage", op: "changed_to", value: "closed_won" }],
      actions: [{ type: "set_field", target: "client_id", field: "status", value: "active" }],
    });
    const history = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, ruleId)))
      .orderBy(asc(auditLog.createdAt));
    expect(history.map((h) => h.action)).toEqual(["workflow_rule.created", "workflow_rule.disabled", "workflow_rule.enabled", "workflow_rule.updated"]);
  });
});
