import { beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { auditLog, clients, notifications, organizations, webhookEvents } from "@/db/schema";
import { OPTIONS, POST } from "@/app/api/webhook/leads/route";
import { updateLeadSettings } from "@/lib/leads/settings";
import { withTestOrg } from "../helpers/fixture";
import { makeKey, fromRandomIp } from "../helpers/api";

const t = withTestOrg({ plan: "business" });

let leadsKey: string;

beforeAll(async () => {
  leadsKey = (await makeKey(t.db, t.org, ["leads"], "website form")).key;
});

function post(body: BodyInit, headers: Record<string, string>, query = "") {
  return POST(new Request(`http://127.0.0.1/api/webhook/leads${query}`, { method: "POST", body, headers: { ...fromRandomIp(), ...headers } }));
}

const countClients = async (email: string) =>
  (
    await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.email, email)))
  ).length;

/** Changes the org's lead capture settings the way Settings → Lead capture does. */
async function setLeadSettings(patch: { allowedOrigins?: string[]; redirectUrls?: string[] }) {
  const [current] = await t.db.select().from(organizations).where(eq(organizations.id, t.org.org.id));
  await updateLeadSettings(t.db, t.org.ctx, {
    allowedOrigins: patch.allowedOrigins ?? current!.leadAllowedOrigins,
    redirectUrls: patch.redirectUrls ?? current!.leadRedirectUrls,
  });
}

describe("lead capture", () => {
  it("turns a JSON lead into a client with status lead, an audit row, notifications and client_created", async () => {
    const res = await post(
      JSON.stringify({
        name: "Jo Lead",
        email: "jo@example.com",
        phone: "555-1",
        company: "Jo's",
        message: "Need a quote",
        utm_source: "google",
        utm_campaign: "spring",
        budget: "500",
      }),
      { "content-type": "application/json", "x-api-key": leadsKey },
    );
    expect(res.status).toBe(201);
    const client = await res.json();
    expect(client).toMatchObject({
      object: "client",
      name: "Jo Lead",
      email: "jo@example.com",
      phone: "555-1",
      company: "Jo's",
      status: "lead",
      source: "google",
      custom_fields: { message: "Need a quote", utm_source: "google", utm_campaign: "spring", budget: "500" },
    });
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.targetId, client.id));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ source: "lead_capture", actorType: "api_key" });
    const events = await t.db.select().from(webhookEvents).where(eq(webhookEvents.recordId, client.id));
    expect(events.map((e) => e.type).sort()).toEqual(["client_created", "record.created"]);
    const notes = await t.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, t.org.org.id), eq(notifications.title, "New lead: Jo Lead")));
    expect(notes).toHaveLength(3);
    // The notification opens with the enquiry's first line.
    expect(notes[0]!.body).toBe("“Need a quote” · jo@example.com · 555-1 · via google");
  });

  it("accepts a plain HTML form post with the key as a form field and shows a thank-you page", async () => {
    const form = new URLSearchParams({ api_key: leadsKey, first_name: "Form", last_name: "Person", email: "form@example.com" });
    const res = await post(form.toString(), { "content-type": "application/x-www-form-urlencoded", accept: "text/html" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Thank you");
    const [c] = await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.email, "form@example.com")));
    expect(c).toMatchObject({ name: "Form Person", status: "lead", source: "web form" });
  });

  it("redirects a form to an allowed redirect_to URL and never to another one", async () => {
    await setLeadSettings({ redirectUrls: ["https://acme.example/thanks"] });
    const ok = await post(
      new URLSearchParams({ name: "R1", redirect_to: "https://acme.example/thanks?from=form" }).toString(),
      { "content-type": "application/x-www-form-urlencoded" },
      `?key=${leadsKey}`,
    );
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("https://acme.example/thanks?from=form");
    const evil = await post(
      new URLSearchParams({ name: "R2", redirect_to: "https://evil.example/phish" }).toString(),
      { "content-type": "application/x-www-form-urlencoded" },
      `?key=${leadsKey}`,
    );
    expect(evil.status).toBe(200);
    expect(evil.headers.get("location")).toBeNull();
  });

  it("refuses a key that can do more than post leads when it is embedded in a form", async () => {
    const writeKey = (await makeKey(t.db, t.org, ["write", "leads"])).key;
    const res = await post(new URLSearchParams({ api_key: writeKey, name: "X", email: "x-embedded@example.com" }).toString(), {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden");
    expect(await countClients("x-embedded@example.com")).toBe(0);
  });

  it("drops honeypot submissions silently", async () => {
    const res = await post(JSON.stringify({ name: "Bot", email: "bot@example.com", _gotcha: "http://spam" }), {
      "content-type": "application/json",
      "x-api-key": leadsKey,
    });
    expect(res.status).toBe(202);
    expect(await countClients("bot@example.com")).toBe(0);
  });

  it("enforces the allowed origins and answers CORS preflights", async () => {
    await setLeadSettings({ allowedOrigins: ["https://acme.example"] });
    try {
      const pre = OPTIONS(
        new Request("http://127.0.0.1/api/webhook/leads", {
          method: "OPTIONS",
          headers: { origin: "https://acme.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
        }),
      );
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe("https://acme.example");
      expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
      expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-api-key");
      const allowed = await post(JSON.stringify({ name: "CORS ok", email: "cors-ok@example.com" }), {
        "content-type": "application/json",
        "x-api-key": leadsKey,
        origin: "https://acme.example",
      });
      expect(allowed.status).toBe(201);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://acme.example");
      const refused = await post(JSON.stringify({ name: "CORS bad", email: "cors-bad@example.com" }), {
        "content-type": "application/json",
        "x-api-key": leadsKey,
        origin: "https://other.example",
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      expect(await countClients("cors-bad@example.com")).toBe(0);
    } finally {
      await setLeadSettings({ allowedOrigins: [] });
    }
  });

  it("creates exactly one client for 20 concurrent posts with the same Idempotency-Key", async () => {
    const body = JSON.stringify({ name: "Idem Potent", email: "idem@example.com" });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => post(body, { "content-type": "application/json", "x-api-key": leadsKey, "idempotency-key": "form-submit-123" })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(await Promise.all(results.map(async (r) => (await r.json()).id)));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    expect(await countClients("idem@example.com")).toBe(1);
    const reused = await post(JSON.stringify({ name: "Different" }), {
      "content-type": "application/json",
      "x-api-key": leadsKey,
      "idempotency-key": "form-submit-123",
    });
    expect(reused.status).toBe(409);
  });

  it("answers bad input in the error shape and writes nothing", async () => {
    const cases: [BodyInit, Record<string, string>, number, string][] = [
      ["{not json", { "content-type": "application/json", "x-api-key": leadsKey }, 400, "invalid_json"],
      ["", { "content-type": "application/json", "x-api-key": leadsKey }, 400, "invalid_json"],
      ["[1,2]", { "content-type": "application/json", "x-api-key": leadsKey }, 400, "validation_failed"],
      [JSON.stringify({ message: "no contact" }), { "content-type": "application/json", "x-api-key": leadsKey }, 400, "validation_failed"],
      [JSON.stringify({ name: "x", email: "not-an-email" }), { "content-type": "application/json", "x-api-key": leadsKey }, 400, "validation_failed"],
      [JSON.stringify({ name: "x" }), { "content-type": "text/plain", "x-api-key": leadsKey }, 415, "unsupported_media_type"],
      [JSON.stringify({ name: "x".repeat(70_000) }), { "content-type": "application/json", "x-api-key": leadsKey }, 413, "payload_too_large"],
      [JSON.stringify({ name: "x" }), { "content-type": "application/json" }, 401, "unauthorized"],
      [JSON.stringify({ name: "x" }), { "content-type": "application/json", "x-api-key": "sk_live_nope" }, 401, "unauthorized"],
    ];
    const before = (await t.db.select().from(clients).where(eq(clients.orgId, t.org.org.id))).length;
    for (const [body, headers, status, code] of cases) {
      const res = await post(body, headers);
      expect(res.status, `${code} for ${String(body).slice(0, 30)}`).toBe(status);
      const json = await res.json();
      expect(json.error.code).toBe(code);
      expect(json.error.request_id).toMatch(/^req_/);
    }
    expect((await t.db.select().from(clients).where(eq(clients.orgId, t.org.org.id))).length).toBe(before);
  });
});
