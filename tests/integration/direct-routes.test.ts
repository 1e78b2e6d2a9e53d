import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { and, eq } from "drizzle-orm";
import { clients } from "@/db/schema";
import * as leadsRoute from "@/app/api/webhook/leads/route";
import { directHandler, registerDirectRoutes, serveDirect } from "@/server/direct.mjs";
import { STATIC_HEADERS } from "@/server/static-headers.mjs";
import { readText } from "@/lib/http/body";
import { runAfterResponse } from "@/lib/http/after";
import { AppError } from "@/lib/errors";
import { withTestOrg } from "../helpers/fixture";
import { makeKey } from "../helpers/api";
import { peerHeader } from "../helpers/peer";

// Production's server.mjs answers lead capture by calling its route handler straight from Node's
// HTTP server. This file runs that bridge the same way, on 127.0.0.1, with the real handler and
// database: what a client sees must be what Next.js would have answered.

const t = withTestOrg({ plan: "business" });
let leadsKey: string;
let server: http.Server;
let base: string;
let closing = false;
const bridgeLog: string[] = [];
let connections = 0;

beforeAll(async () => {
  leadsKey = (await makeKey(t.db, t.org, ["leads"], "website form")).key;
  registerDirectRoutes({ "/api/webhook/leads": leadsRoute });
  server = http.createServer((req, res) => {
    // What server.mjs does first: tell the app the TCP peer.
    req.headers["x-smarfle-peer"] = peerHeader(req.socket.remoteAddress ?? "")["x-smarfle-peer"];
    const handler = directHandler(req);
    if (!handler) {
      res.statusCode = 599;
      res.end("not a direct route");
      return;
    }
    void serveDirect(handler, req, res, { closing: () => closing, log: (line: string) => bridgeLog.push(line) });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const servers: http.Server[] = [];

/** A server of its own on 127.0.0.1 answering every request through the bridge with `handlerFor(res)`. */
async function bridgeServing(handlerFor: (res: http.ServerResponse) => (req: Request) => Response | Promise<Response>): Promise<string> {
  const srv = http.createServer((req, res) => void serveDirect(handlerFor(res), req, res, { log: (line: string) => bridgeLog.push(line) }));
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

afterAll(async () => {
  for (const s of [server, ...servers]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with Node's client (fetch hides `connection` and `content-length` handling). */
function request(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean; agent?: http.Agent; base?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${options.base ?? base}${path}`,
      { method: options.method ?? "POST", headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    if (options.chunked && options.body) {
      // No Content-Length: the body arrives in pieces, as a streaming client sends it.
      const body = Buffer.from(options.body);
      for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
      req.end();
    } else req.end(options.body);
  });
}

const json = (body: unknown, key = leadsKey) => ({
  headers: { "content-type": "application/json", "x-api-key": key },
  body: JSON.stringify(body),
});

const countByEmail = async (email: string) =>
  (
    await t.db
      .select({ id: clients.id })
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.email, email)))
  ).length;

describe("lead capture served directly by the production server", () => {
  it("captures a lead, with the handler's headers, the static headers and a length, on a reused connection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = connections;
    try {
      const first = await request("/api/webhook/leads", { ...json({ name: "Direct One", email: "direct-1@example.com" }), agent });
      const second = await request("/api/webhook/leads", { ...json({ name: "Direct Two", email: "direct-2@example.com" }), agent });
      for (const res of [first, second]) {
        expect(res.status).toBe(201);
        for (const [name, value] of STATIC_HEADERS) expect(res.headers[name.toLowerCase()]).toBe(value);
        expect(res.headers["x-request-id"]).toMatch(/^req_/);
        expect(res.headers["cache-control"]).toBe("no-store");
        expect(res.headers["access-control-allow-origin"]).toBe("*");
        expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
        expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(res.body));
        expect(res.headers.connection).toBe("keep-alive");
      }
      expect(JSON.parse(first.body)).toMatchObject({ object: "client", name: "Direct One", status: "lead", lead: { new: true } });
      // Both answers came over one connection.
      expect(connections - before).toBe(1);
    } finally {
      agent.destroy();
    }
    expect(await countByEmail("direct-1@example.com")).toBe(1);
    expect(await countByEmail("direct-2@example.com")).toBe(1);
  });

  it("takes the key from the query, answers a plain form with the thank-you page, and a preflight with CORS", async () => {
    const form = await request(`/api/webhook/leads?key=${encodeURIComponent(leadsKey)}`, {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Form+Lead&email=direct-form%40example.com",
    });
    expect(form.status).toBe(200);
    expect(form.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(form.body).toMatch(/<html/i);
    expect(await countByEmail("direct-form@example.com")).toBe(1);

    const preflight = await request("/api/webhook/leads", { method: "OPTIONS", headers: { origin: "https://www.example.com" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://www.example.com");
    expect(preflight.headers["access-control-allow-methods"]).toBe("POST, OPTIONS");
    expect(preflight.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("refuses an oversized body with 413, writes nothing, and reads the rest so the connection carries on", async () => {
    const big = JSON.stringify({ name: "Too Big", email: "direct-big@example.com", message: "x".repeat(200 * 1024) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = connections;
    try {
      // Streamed without a length: the handler stops reading at its limit.
      const streamed = await request("/api/webhook/leads", { ...json({}), body: big, chunked: true, agent });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error).toMatchObject({ code: "payload_too_large", request_id: streamed.headers["x-request-id"] });
      // Declared too large: refused before any of it is read.
      const declared = await request("/api/webhook/leads", { ...json({}), body: big, agent });
      expect(declared.status).toBe(413);
      // What neither read was discarded, and the same connection takes the next lead.
      const next = await request("/api/webhook/leads", { ...json({ name: "After Big", email: "direct-after@example.com" }), agent });
      expect(next.status).toBe(201);
      expect(connections - before).toBe(1);
    } finally {
      agent.destroy();
    }
    expect(await countByEmail("direct-big@example.com")).toBe(0);
    expect(await countByEmail("direct-after@example.com")).toBe(1);
  });

  it("answers a client that keeps sending past the limit, then disconnects it", async () => {
    const port = (server.address() as AddressInfo).port;
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `POST /api/webhook/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: ${leadsKey}\r\nContent-Length: 50000000\r\n\r\n`,
    );
    await expect.poll(() => received, { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 413 /);
    // 50 MB declared: the server discards at most 1 MB of it, then hangs up.
    const piece = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 64 && !socket.destroyed; i++) {
      socket.write(piece);
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error("the server kept the connection open")), 5_000))]);
    const res = await request("/api/webhook/leads", json({ name: "Later", email: "direct-later@example.com" }));
    expect(res.status).toBe(201);
  });

  it("carries on when a client hangs up in the middle of its body", async () => {
    const port = (server.address() as AddressInfo).port;
    await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = net.connect(port, "127.0.0.1", () => {
              socket.write(
                `POST /api/webhook/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: ${leadsKey}\r\nContent-Length: 5000\r\n\r\n{"name":"Gone`,
              );
              setTimeout(() => {
                socket.destroy();
                resolve();
              }, 50);
            });
            socket.on("error", reject);
          }),
      ),
    );
    const res = await request("/api/webhook/leads", json({ name: "Still Here", email: "direct-still@example.com" }));
    expect(res.status).toBe(201);
    expect(await countByEmail("direct-still@example.com")).toBe(1);
  });

  it("answers a body cut short as the client's error, not as a database outage", async () => {
    const reset = Object.assign(new Error("aborted"), { code: "ECONNRESET" });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"Cut'));
        controller.error(reset);
      },
    });
    const req = new Request("http://127.0.0.1/api/webhook/leads", { method: "POST", body, duplex: "half" } as RequestInit);
    const err = await readText(req, 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "validation_failed", status: 400 });
  });

  it("asks clients to close their connection once the server is shutting down", async () => {
    closing = true;
    try {
      const res = await request("/api/webhook/leads", json({ name: "Last One", email: "direct-last@example.com" }));
      expect(res.status).toBe(201);
      expect(res.headers.connection).toBe("close");
    } finally {
      closing = false;
    }
  });

  it("leaves every other path and method to Next.js", async () => {
    const handlerFor = (method: string, url: string) => directHandler({ method, url } as http.IncomingMessage);
    expect(handlerFor("POST", "/api/webhook/leads")).toBe(leadsRoute.POST);
    expect(handlerFor("POST", "/api/webhook/leads?key=abc")).toBe(leadsRoute.POST);
    expect(handlerFor("OPTIONS", "/api/webhook/leads")).toBe(leadsRoute.OPTIONS);
    for (const [method, url] of [
      ["GET", "/api/webhook/leads"],
      ["HEAD", "/api/webhook/leads"],
      ["POST", "/api/webhook/leads/"],
      ["POST", "/api/webhook/leadsx"],
      ["POST", "/api/webhook/lead"],
      ["POST", "/api/v1/clients"],
      ["POST", "/API/WEBHOOK/LEADS"],
    ] as const) {
      expect(handlerFor(method, url), `${method} ${url}`).toBeNull();
    }
    expect((await request("/api/webhook/leads", { method: "GET" })).status).toBe(599);
  });

  it("runs the work a handler leaves for after its answer once the answer has gone out", async () => {
    const ranAfterAnswer: boolean[] = [];
    const url = await bridgeServing((res) => async () => {
      // As the QStash dispatcher does after a lead: look again once the request has answered.
      runAfterResponse(async () => {
        ranAfterAnswer.push(res.writableEnded);
      });
      await new Promise((r) => setTimeout(r, 20));
      return new Response("ok");
    });
    const res = await request("/", { base: url, body: "{}" });
    expect(res.body).toBe("ok");
    await expect.poll(() => ranAfterAnswer).toEqual([true]);
  });

  it("answers a handler that throws with the 500 envelope and a log line, and no detail", async () => {
    const url = await bridgeServing(() => () => {
      throw new Error("boom at the bridge");
    });
    const res = await request("/api/webhook/leads", { base: url, body: "{}" });
    expect(res.status).toBe(500);
    const { error } = JSON.parse(res.body);
    expect(error).toMatchObject({ code: "internal_error", details: [] });
    expect(error.request_id).toMatch(/^req_/);
    expect(res.body).not.toContain("boom");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(bridgeLog.some((l) => l.includes("boom at the bridge") && l.includes('"level":"error"'))).toBe(true);
  });
});
