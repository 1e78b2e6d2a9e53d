import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { bookings, clients, invoices, metaLeadFetches } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { POST as inbound } from "@/app/api/inbound/[source]/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import { MAX_PENDING_PER_ORG } from "@/lib/leads/meta";
import { PRESETS } from "@/lib/inbound/presets";
import { newId } from "@/lib/ids";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey, fromRandomIp } from "../helpers/api";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let other: TestOrg;
let key: string;
let otherKey: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  other = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["admin"])).key;
  otherKey = (await makeKey(db, other, ["admin"])).key;
});

afterAll(async () => {
  await dropTestOrgs(db, [org, other]);
  await handle.close();
});

async function createSource(body: Record<string, unknown>, apiKey = key) {
  const res = await call(sources.POST, { method: "POST", key: apiKey, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; mapping: Record<string, unknown> };
}

async function send(sourceId: string, body: string, headers: Record<string, string>) {
  const res = await inbound(
    new Request(`http://127.0.0.1/api/inbound/${sourceId}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...fromRandomIp(), ...headers },
    }),
    {
      params: Promise.resolve({ source: sourceId }),
    },
  );
  return { status: res.status, body: await res.json() };
}

const hex = (k: string, d: string) => createHmac("sha256", k).update(d).digest("hex");
const now = () => Math.floor(Date.now() / 1000);

describe("provider presets", () => {
  it("Stripe: customer.created makes a client with the default mapping; tampered or stale is refused; invoice.paid with its preset", async () => {
    const secret = "whsec_stripe_given_secret_123";
    const src = await createSource({ name: "Stripe", kind: "stripe", secret });
    expect(src.mapping).toEqual(PRESETS.stripe.mappings[0]!.mapping);
    expect(src.secret).toBe(secret);
    const body = JSON.stringify({
      id: "evt_1",
      object: "event",
      type: "customer.created",
      data: { object: { id: "cus_A1", object: "customer", email: "Ann@Example.com", name: "Ann Stripe", phone: "+15550100" } },
    });
    const t = now();
    const ok = await send(src.id, body, { "stripe-signature": `t=${t},v1=${hex(secret, `${t}.${body}`)}` });
    expect(ok.status).toBe(200);
    expect(ok.body.outcome).toBe("created");
    const [c] = await db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, org.org.id), eq(clients.externalId, "cus_A1")));
    expect(c).toMatchObject({ name: "Ann Stripe", email: "ann@example.com", source: "stripe", status: "active" });

    const tampered = body.replace("Ann Stripe", "Eve");
    expect((await send(src.id, tampered, { "stripe-signature": `t=${t},v1=${hex(secret, `${t}.${body}`)}` })).status).toBe(401);
    const old = t - 600;
    expect((await send(src.id, body, { "stripe-signature": `t=${old},v1=${hex(secret, `${old}.${body}`)}` })).status).toBe(401);

    const invoiceSrc = await createSource({ name: "Stripe invoices", kind: "stripe", secret, mapping: PRESETS.stripe.mappings[1]!.mapping });
    const inv = JSON.stringify({
      id: "evt_2",
      type: "invoice.paid",
      data: { object: { id: "in_1", number: "A-0001", amount_paid: 12050, currency: "eur", customer: "cus_A1" } },
    });
    const res = await send(invoiceSrc.id, inv, { "stripe-signature": `t=${t},v1=${hex(secret, `${t}.${inv}`)}` });
    expect(res.body.outcome).toBe("created");
    const [i] = await db
      .select()
      .from(invoices)
      .where(and(eq(invoices.orgId, org.org.id), eq(invoices.externalId, "in_1")));
    expect(i).toMatchObject({ number: "A-0001", amount: 120.5, currency: "EUR", status: "paid" });
  });

  it("Calendly: invitee.created makes a booking", async () => {
    const signingKey = "calendly-signing-key-1";
    const src = await createSource({ name: "Calendly", kind: "calendly", secret: signingKey });
    const body = JSON.stringify({
      event: "invitee.created",
      payload: {
        uri: "https://api.calendly.com/scheduled_events/E1/invitees/I1",
        name: "Cal Guest",
        email: "cal@example.com",
        scheduled_event: { name: "Home visit", start_time: "2026-12-10T10:00:00.000000Z", end_time: "2026-12-10T11:00:00.000000Z" },
      },
    });
    const t = now();
    const res = await send(src.id, body, { "calendly-webhook-signature": `t=${t},v1=${hex(signingKey, `${t}.${body}`)}` });
    expect(res.body.outcome, JSON.stringify(res.body)).toBe("created");
    const [b] = await db.select().from(bookings).where(eq(bookings.id, res.body.record_id));
    expect(b).toMatchObject({ service: "Home visit", customFields: { invitee_email: "cal@example.com" } });
    expect(b!.startsAt.toISOString()).toBe("2026-12-10T10:00:00.000Z");
  });

  it("Typeform: form_response makes a lead; GitHub, basic auth and a secret header verify their own way", async () => {
    const tf = await createSource({ name: "Typeform", kind: "typeform" });
    const body = JSON.stringify({
      event_type: "form_response",
      form_response: {
        form_id: "lT4Z3j",
        token: "tok-1",
        answers: [
          { type: "text", text: "Tia Form" },
          { type: "email", email: "TIA@example.com" },
          { type: "phone_number", phone_number: "+15550111" },
        ],
      },
    });
    const res = await send(tf.id, body, { "typeform-signature": `sha256=${createHmac("sha256", tf.secret).update(body).digest("base64")}` });
    expect(res.body.outcome).toBe("created");
    const [c] = await db.select().from(clients).where(eq(clients.id, res.body.record_id));
    expect(c).toMatchObject({ name: "Tia Form", email: "tia@example.com", status: "lead", source: "typeform" });

    const gh = await createSource({ name: "GitHub", kind: "github", secret: "my-github-secret" });
    const ghBody = JSON.stringify({ action: "created", sender: { id: 42, login: "octo" } });
    expect((await send(gh.id, ghBody, { "x-hub-signature-256": `sha256=${hex("my-github-secret", ghBody)}` })).body.outcome).toBe("created");
    expect((await send(gh.id, ghBody, { "x-hub-signature-256": `sha256=${hex("other", ghBody)}` })).status).toBe(401);

    const basic = await createSource({ name: "Legacy CRM", kind: "basic_auth" });
    const plain = JSON.stringify({ id: "p1", name: "Pat Plain", email: "pat@example.com" });
    const auth = (pw: string) => ({ authorization: `Basic ${Buffer.from(`legacy:${pw}`).toString("base64")}` });
    expect((await send(basic.id, plain, auth(basic.secret))).body.outcome).toBe("created");
    expect((await send(basic.id, plain, auth("wrong"))).status).toBe(401);

    const hs = await createSource({ name: "Form tool", kind: "header_secret" });
    const plain2 = JSON.stringify({ id: "p2", name: "Hal Header" });
    expect((await send(hs.id, plain2, { "x-webhook-secret": hs.secret })).body.outcome).toBe("created");
    expect((await send(hs.id, plain2, { "x-webhook-secret": `${hs.secret}x` })).status).toBe(401);
  });

  it("refuses a provider kind without its secret", async () => {
    const res = await call(sources.POST, { method: "POST", key, body: { name: "x", kind: "stripe" } });
    expect(res.status).toBe(400);
    expect((res.body.error as { details: { path: string }[] }).details[0]!.path).toBe("secret");
  });

  it("a flood of Meta notifications is bounded per organization, and another organization carries on", async () => {
    const appSecret = "flood-app-secret-123";
    const src = await createSource({ name: "Busy page", kind: "meta_lead_ads", secret: appSecret, page_access_token: "EAAB-token-flood" });
    const calm = await createSource({ name: "Calm page", kind: "meta_lead_ads", secret: appSecret, page_access_token: "EAAB-token-calm" }, otherKey);
    // The queue is full of leads still waiting (far in the future, so nothing fetches them here).
    const later = new Date(Date.now() + 3_600_000);
    await db.insert(metaLeadFetches).values(
      Array.from({ length: MAX_PENDING_PER_ORG }, (_, i) => ({
        id: newId("mlf"),
        orgId: org.org.id,
        sourceId: src.id,
        leadgenId: `9${i}`,
        notification: {},
        nextAttemptAt: later,
      })),
    );
    const note = (id: string) => JSON.stringify({ object: "page", entry: [{ id: "1", time: 1, changes: [{ field: "leadgen", value: { leadgen_id: id } }] }] });
    const refused = await send(src.id, note("123"), { "x-hub-signature-256": `sha256=${hex(appSecret, note("123"))}` });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    const accepted = await send(calm.id, note("123"), { "x-hub-signature-256": `sha256=${hex(appSecret, note("123"))}` });
    expect(accepted.status).toBe(200);
    expect(accepted.body.queued).toBe(1);
    await db.delete(metaLeadFetches).where(eq(metaLeadFetches.sourceId, calm.id));
  });
});
