import { beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { auditLog, clients, idempotencyKeys, webhookEvents } from "@/db/schema";
import { POST as leads } from "@/app/api/webhook/leads/route";
import * as list from "@/app/api/v1/records/[type]/route";
import * as one from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import { revokeApiKey } from "@/lib/api-keys/keys";
import { createRecord } from "@/lib/records/pipeline";
import { withTestOrg } from "../helpers/fixture";
import { makeKey, fromRandomIp } from "../helpers/api";

const t = withTestOrg({ plan: "business" });

/**
 * A table of malformed requests for each public write endpoint. Each must answer with its exact
 * status and error code — never 500 — and write nothing.
 */
const keys: Record<string, string> = {};
let existingId: string;

beforeAll(async () => {
  keys.full = (await makeKey(t.db, t.org, ["admin"])).key;
  keys.leads = (await makeKey(t.db, t.org, ["leads"])).key;
  keys.read = (await makeKey(t.db, t.org, ["read"])).key;
  const revoked = await makeKey(t.db, t.org, ["admin"]);
  await revokeApiKey(t.db, t.org.ctx, revoked.apiKey.id);
  keys.revoked = revoked.key;
  existingId = (await createRecord(t.org.ctx, "client", { name: "Untouchable", email: "keep@example.com" })).id;
});

type Case = [name: string, body: string | null, headers: Record<string, string>, status: number, code: string];
const JSON_CT = { "content-type": "application/json" };

/** Cases every JSON endpoint shares; `wrap` puts a record where the endpoint expects one. */
function sharedCases(key: string, wrap: (record: unknown) => unknown, wrongScopeKey: string): Case[] {
  const auth = { ...JSON_CT, "x-api-key": key };
  const rec = (r: unknown) => JSON.stringify(wrap(r));
  return [
    ["truncated object", "{", auth, 400, "invalid_json"],
    ["truncated value", '{"name":', auth, 400, "invalid_json"],
    ["trailing comma", '{"name":"x",}', auth, 400, "invalid_json"],
    ["single quotes", "{'name':'x'}", auth, 400, "invalid_json"],
    ["bare word", "nul", auth, 400, "invalid_json"],
    ["extra brace", '{"name":"x"}}', auth, 400, "invalid_json"],
    ["NaN", '{"name": NaN}', auth, 400, "invalid_json"],
    ["undefined", '{"name": undefined}', auth, 400, "invalid_json"],
    ["unterminated string", '{"name": "abc', auth, 400, "invalid_json"],
    ["comment", '{"name": "x" /* hi */}', auth, 400, "invalid_json"],
    ["empty body", "", auth, 400, "invalid_json"],
    ["whitespace body", "   \n ", auth, 400, "invalid_json"],
    ["JSON array at top", "[]", auth, 400, "validation_failed"],
    ["JSON null", "null", auth, 400, "validation_failed"],
    ["JSON number", "42", auth, 400, "validation_failed"],
    ["JSON string", '"lead"', auth, 400, "validation_failed"],
    ["record is an array", rec([1, 2]), auth, 400, "validation_failed"],
    ["name is a number", rec({ name: 123 }), auth, 400, "validation_failed"],
    ["name is a boolean", rec({ name: true }), auth, 400, "validation_failed"],
    ["name is an object", rec({ name: { first: "a" } }), auth, 400, "validation_failed"],
    ["name is an array", rec({ name: ["a"] }), auth, 400, "validation_failed"],
    ["name only spaces, no contact", rec({ name: "    " }), auth, 400, "validation_failed"],
    ["name of 10,000 characters", rec({ name: "x".repeat(10_000) }), auth, 400, "validation_failed"],
    ["email not an email", rec({ name: "x", email: "not-an-email" }), auth, 400, "validation_failed"],
    ["email as number", rec({ name: "x", email: 5 }), auth, 400, "validation_failed"],
    ["SQL in email", rec({ name: "x", email: "x@x.com' OR '1'='1" }), auth, 400, "validation_failed"],
    ["NUL in name", rec({ name: "bad\u0000name" }), auth, 400, "validation_failed"],
    ["lone surrogate in name", rec({ name: "bad\ud800name" }), auth, 400, "validation_failed"],
    ["NUL inside a custom field", rec({ name: "x", custom_fields: { note: "a\u0000b" } }), auth, 400, "validation_failed"],
    ["body over the size limit", rec({ name: "x", filler: "y".repeat(1_100_000) }), auth, 413, "payload_too_large"],
    ["text/plain", rec({ name: "x" }), { "content-type": "text/plain", "x-api-key": key }, 415, "unsupported_media_type"],
    ["application/xml", "<client><name>x</name></client>", { "content-type": "application/xml", "x-api-key": key }, 415, "unsupported_media_type"],
    ["no content type", rec({ name: "x" }), { "x-api-key": key }, 415, "unsupported_media_type"],
    ["no key", rec({ name: "x" }), JSON_CT, 401, "unauthorized"],
    ["empty key", rec({ name: "x" }), { ...JSON_CT, "x-api-key": "" }, 401, "unauthorized"],
    ["malformed key", rec({ name: "x" }), { ...JSON_CT, "x-api-key": "sk_live_123" }, 401, "unauthorized"],
    ["unknown key", rec({ name: "x" }), { ...JSON_CT, authorization: `Bearer sk_live_${"Z".repeat(43)}` }, 401, "unauthorized"],
    ["Basic auth", rec({ name: "x" }), { ...JSON_CT, authorization: "Basic dXNlcjpwYXNz" }, 401, "unauthorized"],
    ["Bearer without a token", rec({ name: "x" }), { ...JSON_CT, authorization: "Bearer" }, 401, "unauthorized"],
    ["revoked key", rec({ name: "x" }), { ...JSON_CT, "x-api-key": keys.revoked! }, 401, "unauthorized"],
    ["key lacking the scope", rec({ name: "x" }), { ...JSON_CT, "x-api-key": wrongScopeKey }, 403, "insufficient_scope"],
  ];
}

function recordCases(): Case[] {
  const auth = { ...JSON_CT, "x-api-key": keys.full! };
  return [
    ...sharedCases(keys.full!, (r) => r, keys.read!),
    ["__proto__ key", '{"name":"x","__proto__":{"admin":true}}', auth, 400, "validation_failed"],
    ["constructor key", '{"name":"x","constructor":{"prototype":{"admin":true}}}', auth, 400, "validation_failed"],
    ["__proto__ in custom fields", '{"name":"x","custom_fields":{"__proto__":{"admin":true}}}', auth, 400, "validation_failed"],
    ["unknown field", JSON.stringify({ name: "x", favourite_colour: "blue" }), auth, 400, "validation_failed"],
    ["SQL in status", JSON.stringify({ name: "x", status: "lead' OR 1=1 --" }), auth, 400, "validation_failed"],
    ["status a number", JSON.stringify({ name: "x", status: 3 }), auth, 400, "validation_failed"],
    ["custom_fields a string", JSON.stringify({ name: "x", custom_fields: "x" }), auth, 400, "validation_failed"],
    ["external_id a number", JSON.stringify({ name: "x", external_id: 12 }), auth, 400, "validation_failed"],
    ["external_id already used", JSON.stringify({ name: "x", external_id: "taken" }), auth, 409, "conflict"],
  ];
}

function leadCases(): Case[] {
  const auth = { ...JSON_CT, "x-api-key": keys.leads! };
  return [
    ...sharedCases(keys.leads!, (r) => r, keys.read!),
    ["only a message", JSON.stringify({ message: "hello" }), auth, 400, "validation_failed"],
    ["__proto__ only", '{"__proto__":{"name":"x"}}', auth, 400, "validation_failed"],
    ["constructor only", '{"constructor":{"prototype":{"name":"x"}}}', auth, 400, "validation_failed"],
    ["SQL in phone-only lead's email", JSON.stringify({ phone: "1", email: "'; DROP TABLE clients; --" }), auth, 400, "validation_failed"],
    ["bad Idempotency-Key", JSON.stringify({ name: "x" }), { ...auth, "idempotency-key": "has spaces in it" }, 400, "validation_failed"],
    [
      "write key in a form field",
      new URLSearchParams({ api_key: keys.full!, name: "x" }).toString(),
      { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      403,
      "forbidden",
    ],
    [
      "form without a key",
      new URLSearchParams({ name: "x" }).toString(),
      { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      401,
      "unauthorized",
    ],
    [
      "form without any contact",
      new URLSearchParams({ api_key: keys.leads!, message: "hi" }).toString(),
      { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      400,
      "validation_failed",
    ],
  ];
}

async function snapshot() {
  const [c] = await t.db
    .select({ n: sql<number>`count(*)::int` })
    .from(clients)
    .where(eq(clients.orgId, t.org.org.id));
  const [a] = await t.db
    .select({ n: sql<number>`count(*)::int` })
    .from(auditLog)
    .where(eq(auditLog.orgId, t.org.org.id));
  const [e] = await t.db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookEvents)
    .where(eq(webhookEvents.orgId, t.org.org.id));
  const [i] = await t.db
    .select({ n: sql<number>`count(*)::int` })
    .from(idempotencyKeys)
    .where(eq(idempotencyKeys.orgId, t.org.org.id));
  const [kept] = await t.db.select().from(clients).where(eq(clients.id, existingId));
  return { clients: c!.n, audit: a!.n, events: e!.n, idem: i!.n, kept: JSON.stringify(kept) };
}

type Send = (body: string | null, headers: Record<string, string>) => Promise<Response>;

const endpoints: [string, () => Case[], Send][] = [
  [
    "POST /api/webhook/leads",
    leadCases,
    (body, headers) => leads(new Request("http://127.0.0.1/api/webhook/leads", { method: "POST", body, headers: { ...fromRandomIp(), ...headers } })),
  ],
  [
    "POST /api/v1/records/client",
    recordCases,
    (body, headers) =>
      list.POST(new Request("http://127.0.0.1/api/v1/records/client", { method: "POST", body, headers: { ...fromRandomIp(), ...headers } }), {
        params: Promise.resolve({ type: "client" }),
      }),
  ],
  [
    "PATCH /api/v1/records/client/{id}",
    recordCases,
    (body, headers) =>
      one.PATCH(new Request(`http://127.0.0.1/api/v1/records/client/${existingId}`, { method: "PATCH", body, headers: { ...fromRandomIp(), ...headers } }), {
        params: Promise.resolve({ type: "client", id: existingId }),
      }),
  ],
];

describe.each(endpoints)("%s refuses malformed requests", (_name, cases, send) => {
  it("with the exact status and code for each case, writing nothing", async () => {
    await createRecord(t.org.ctx, "client", { name: "Taken", external_id: "taken" }).catch(() => {});
    const table = cases();
    expect(table.length).toBeGreaterThanOrEqual(40);
    const before = await snapshot();
    const failures: string[] = [];
    for (const [name, body, headers, status, code] of table) {
      const res = await send(body, headers);
      const text = await res.text();
      let got = "";
      try {
        got = JSON.parse(text).error?.code;
      } catch {
        got = `non-JSON: ${text.slice(0, 60)}`;
      }
      if (res.status !== status || got !== code) failures.push(`${name}: expected ${status} ${code}, got ${res.status} ${got}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});

describe("POST /api/v1/records/client/bulk refuses malformed batches", () => {
  it("answers each with its code and writes nothing", async () => {
    const before = await snapshot();
    const send = (body: string, headers: Record<string, string> = { ...JSON_CT, "x-api-key": keys.full! }) =>
      bulk.POST(new Request("http://127.0.0.1/api/v1/records/client/bulk", { method: "POST", body, headers: { ...fromRandomIp(), ...headers } }), {
        params: Promise.resolve({ type: "client" }),
      });
    const cases: [string, number, string][] = [
      ["{", 400, "invalid_json"],
      ["{}", 400, "validation_failed"],
      ['{"records": []}', 400, "validation_failed"],
      ['{"records": {}}', 400, "validation_failed"],
      ['{"records": "x"}', 400, "validation_failed"],
      ['{"records": [{}], "extra": 1}', 400, "validation_failed"],
      [JSON.stringify({ records: Array.from({ length: 1001 }, () => ({ name: "x" })) }), 400, "validation_failed"],
    ];
    for (const [body, status, code] of cases) {
      const res = await send(body);
      expect(res.status, body.slice(0, 40)).toBe(status);
      expect((await res.json()).error.code).toBe(code);
    }
    // Items that are each invalid: a 200 with every item failed, and nothing written.
    const res = await send(JSON.stringify({ records: [{}, { name: 5 }, { name: "x", email: "no" }, { name: "a\u0000" }, [1], null] }));
    const out = await res.json();
    expect(out).toMatchObject({ created: 0, failed: 6 });
    expect(await snapshot()).toEqual(before);
  });
});
