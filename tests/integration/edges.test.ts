import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { clients, inboundRequests } from "@/db/schema";
import { setDbHandle } from "@/db/client";
import { openPostgres } from "@/db/drivers/postgres";
import { resetEnvCache } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { edge } from "@/lib/http/edge";
import { createSource } from "@/lib/inbound/sources";
import { GET as unknownApiRoute } from "@/app/api/v1/[...path]/route";
import * as me from "@/app/api/v1/me/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import { POST as lead } from "@/app/api/webhook/leads/route";
import { POST as inbound } from "@/app/api/inbound/[source]/route";
import { POST as deliveries } from "@/app/api/internal/deliveries/route";
import { POST as sweep } from "@/app/api/internal/sweep/route";
import { withTestOrg } from "../helpers/fixture";
import { fromRandomIp, makeKey } from "../helpers/api";
import { qstashRequest } from "../helpers/qstash";

const t = withTestOrg({ plan: "business" });

/**
 * Every kind of edge — the API, lead capture, inbound webhooks, the internal QStash routes —
 * answers an error in the documented envelope carrying the request id it also sends as
 * X-Request-Id, writes nothing, and answers 503 with Retry-After while the database is down.
 * (The signed-in app's file routes are covered by the browser test tests/e2e/import.test.mjs.)
 */
const APP_URL = "http://127.0.0.1:39998";
const SIGNING_KEY = `sig_${randomUUID()}`;

let leadsKey: string;
let sourceId: string;

beforeAll(async () => {
  Object.assign(process.env, { QSTASH_CURRENT_SIGNING_KEY: SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY: `${SIGNING_KEY}_next`, APP_URL });
  resetEnvCache();
  leadsKey = (await makeKey(t.db, t.org, ["leads"])).key;
  sourceId = (await createSource(t.db, t.org.ctx, { name: "Shop", kind: "shopify", mapping: { target: "client", fields: { name: "name" } } })).source.id;
});

afterAll(async () => {
  for (const k of ["QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "APP_URL"]) delete process.env[k];
  resetEnvCache();
});

type Route = (req: Request, route: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function send(route: Route, req: Request, params: Record<string, string> = {}) {
  const res = await route(req, { params: Promise.resolve(params) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : null };
}

/** The documented envelope, with the request id the answer's header names. */
function expectEnvelope(res: Awaited<ReturnType<typeof send>>, status: number, code: string, idPrefix = "req") {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Array), request_id: expect.stringMatching(new RegExp(`^${idPrefix}_`)) },
  });
  expect(res.headers.get("x-request-id")).toBe(res.body.error.request_id);
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  new Request(url, { method: "POST", body, headers: { ...fromRandomIp(), ...headers } });

async function clientCount() {
  return (await t.db.select().from(clients).where(eq(clients.orgId, t.org.org.id))).length;
}

describe("routes without dynamic segments", () => {
  it("answer when called as Next.js calls them, with no params at all", async () => {
    const noParams = { params: undefined } as unknown as { params: Promise<Record<string, string>> };
    const res = await (me.GET as Route)(
      new Request("http://127.0.0.1/api/v1/me", { headers: { authorization: `Bearer ${t.key}`, ...fromRandomIp() } }),
      noParams,
    );
    expect(res.status).toBe(200);
    const body = JSON.stringify({ name: "Static", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } });
    const created = await (sources.POST as Route)(
      post("http://127.0.0.1/api/v1/inbound-sources", body, { authorization: `Bearer ${t.key}`, "content-type": "application/json" }),
      noParams,
    );
    expect(created.status).toBe(201);
    expect((await (unknownApiRoute as Route)(new Request("http://127.0.0.1/api/v1/nope", { headers: fromRandomIp() }), noParams)).status).toBe(404);
  });
});

describe("every edge answers errors in the documented envelope", () => {
  it("the API, an unknown path included", async () => {
    expectEnvelope(await send(unknownApiRoute as Route, new Request("http://127.0.0.1/api/v1/nothing-here", { headers: fromRandomIp() })), 404, "not_found");
  });

  it("lead capture: JSON for JSON, a page naming the request id for a plain form", async () => {
    expectEnvelope(
      await send(lead as Route, post("http://127.0.0.1/api/webhook/leads", "name=Ada", { "content-type": "text/plain", "x-api-key": leadsKey })),
      415,
      "unsupported_media_type",
    );
    expectEnvelope(
      await send(lead as Route, post("http://127.0.0.1/api/webhook/leads", "{", { "content-type": "application/json", "x-api-key": leadsKey })),
      400,
      "invalid_json",
    );
    const page = await send(
      lead as Route,
      post("http://127.0.0.1/api/webhook/leads", "name=Ada&api_key=sk_live_wrong", { "content-type": "application/x-www-form-urlencoded" }),
    );
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain(page.headers.get("x-request-id"));
    expect(await clientCount()).toBe(0);
  });

  it("inbound webhooks, with the id of the logged request", async () => {
    expectEnvelope(await send(inbound as Route, post("http://127.0.0.1/api/inbound/src_nothing", "{}"), { source: "src_nothing" }), 404, "not_found", "inr");
    const unsigned = await send(inbound as Route, post(`http://127.0.0.1/api/inbound/${sourceId}`, '{"name":"Ada"}', { "content-type": "application/json" }), {
      source: sourceId,
    });
    expectEnvelope(unsigned, 401, "unauthorized", "inr");
    // The request id is the logged request's: the sender can quote it, the admin can find it.
    const [logged] = await t.db.select().from(inboundRequests).where(eq(inboundRequests.id, unsigned.body.error.request_id));
    expect(logged).toMatchObject({ status: "rejected", verified: false });
    expect(await clientCount()).toBe(0);
  });

  it("the internal QStash routes: unsigned, malformed and invalid bodies", async () => {
    expectEnvelope(await send(deliveries as Route, post(`${APP_URL}/api/internal/deliveries`, '{"delivery_id":"dlv_1"}')), 401, "unauthorized");
    expectEnvelope(await send(sweep as Route, post(`${APP_URL}/api/internal/sweep`, "")), 401, "unauthorized");
    expectEnvelope(await send(deliveries as Route, await qstashRequest(`${APP_URL}/api/internal/deliveries`, "{not json", SIGNING_KEY)), 400, "invalid_json");
    const invalid = await send(deliveries as Route, await qstashRequest(`${APP_URL}/api/internal/deliveries`, '{"delivery_id":""}', SIGNING_KEY));
    expectEnvelope(invalid, 400, "validation_failed");
    expect(invalid.body.error.details).toEqual([{ path: "delivery_id", message: expect.any(String) }]);
    // Signed and valid: the route runs (no such delivery here, so nothing to do).
    const ran = await send(deliveries as Route, await qstashRequest(`${APP_URL}/api/internal/deliveries`, '{"delivery_id":"dlv_none"}', SIGNING_KEY));
    expect(ran).toMatchObject({ status: 200, body: { ran: false, decision: null } });
  });

  it("an error no handler expected: 500 with no detail, never the error's own text", async () => {
    const broken = edge({ kind: "test" }, async () => {
      throw new Error("secret internals at /srv/app.ts:12");
    });
    const res = await send(broken as Route, new Request("http://127.0.0.1/anything"));
    expectEnvelope(res, 500, "internal_error");
    expect(res.text).not.toContain("secret internals");
    // A handler's own error code passes through as it is.
    const refused = edge({ kind: "test" }, async () => {
      throw new AppError("conflict", "Taken.");
    });
    expectEnvelope(await send(refused as Route, new Request("http://127.0.0.1/anything")), 409, "conflict");
  });

  it.runIf(process.env.DATABASE_URL)("with the database unreachable, every edge answers 503 with Retry-After at once", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise((r) => srv.close(r));
    const dead = await openPostgres(`postgres://postgres@127.0.0.1:${port}/nowhere`, { max: 2 });
    setDbHandle(dead);
    try {
      const answers = [
        await send(lead as Route, post("http://127.0.0.1/api/webhook/leads", '{"name":"Ada"}', { "content-type": "application/json", "x-api-key": leadsKey })),
        await send(inbound as Route, post(`http://127.0.0.1/api/inbound/${sourceId}`, "{}"), { source: sourceId }),
        await send(deliveries as Route, await qstashRequest(`${APP_URL}/api/internal/deliveries`, '{"delivery_id":"dlv_none"}', SIGNING_KEY)),
      ];
      for (const res of answers) {
        expectEnvelope(res, 503, "unavailable", res.body.error.request_id.split("_")[0]);
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      }
    } finally {
      setDbHandle(t.handle);
      await dead.close();
    }
  });
});
