// Direct routes: route handlers that the production server (server.mjs) calls straight from Node's
// HTTP server, without Next.js's request path in between.
//
// Lead capture is the busiest public endpoint (every website form and ad platform posts to it), and
// for a request that small Next.js's per-request work (its request and response objects, routing,
// streaming the answer) cost about as much CPU as capturing the lead itself. The handler is the
// same one Next.js would call: instrumentation.ts registers the route module (its exported method
// functions) at start-up, so the route file stays the one declaration. Until that has happened, and
// for any method the module does not export or any other path, the request goes to Next.js as
// usual. `next dev` and serverless hosts always use Next.js.
//
// What Next.js would add to such an answer is added here: the static headers of next.config.ts.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { STATIC_HEADERS } from "./static-headers.mjs";

const KEY = Symbol.for("smarfle.direct-routes");

// Work a handler hands to lib/http/after.ts `runAfterResponse` (Next.js's `after` inside Next.js)
// runs once the answer has gone out, as it would under Next.js: a lead's transaction, for one, has
// committed by then. This module is loaded twice (by server.mjs, and bundled into the app), so
// the store and the hook live on globalThis: one of each per process.
const AFTER_STORE = Symbol.for("smarfle.direct-after-store");
const AFTER_HOOK = Symbol.for("smarfle.after-response");
/** @type {AsyncLocalStorage<Array<() => unknown>>} */
const afterResponse = (globalThis[AFTER_STORE] ??= new AsyncLocalStorage());
/** Queues `task` for after the answer of the direct route being served; false outside one. */
globalThis[AFTER_HOOK] ??= (task) => {
  const tasks = afterResponse.getStore();
  if (!tasks) return false;
  tasks.push(task);
  return true;
};

/**
 * Called by instrumentation.ts: `routes` maps an exact path to its route module.
 *
 * @param {Record<string, Record<string, unknown>>} routes
 */
export function registerDirectRoutes(routes) {
  globalThis[KEY] = new Map(Object.entries(routes));
}

/**
 * The handler that serves this request directly, or null (Next.js serves it).
 *
 * @param {Pick<import("node:http").IncomingMessage, "method" | "url">} req
 * @returns {((req: Request) => Response | Promise<Response>) | null}
 */
export function directHandler(req) {
  const routes = globalThis[KEY];
  if (!routes) return null;
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const handler = routes.get(q === -1 ? url : url.slice(0, q))?.[req.method];
  return typeof handler === "function" ? handler : null;
}

const CUT_SHORT = "the client closed the connection before sending its whole body";

/**
 * The request body as a web stream, read one chunk per pull (the socket is paused in between, so
 * an unread body is never buffered). Cancelling it, as a handler refusing an oversized body does,
 * only stops the reading: the answer still goes out on the open connection (see `drain`).
 */
function bodyOf(req) {
  return new ReadableStream(
    {
      pull(controller) {
        if (req.readableEnded) return controller.close();
        if (req.destroyed) return controller.error(new Error(CUT_SHORT));
        return new Promise((resolve) => {
          const settle = (action) => {
            req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
            req.pause();
            action();
            resolve();
          };
          const onData = (chunk) => settle(() => controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
          const onEnd = () => settle(() => controller.close());
          const onError = (err) => settle(() => controller.error(err));
          const onClose = () => {
            if (!req.complete) onError(new Error(CUT_SHORT));
          };
          req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
          req.resume();
        });
      },
    },
    { highWaterMark: 0 },
  );
}

/** What is left of a body the handler did not read is discarded, up to this much, before the connection is closed. */
const DRAIN_BYTES = 1024 * 1024;
const DRAIN_MS = 10_000;

/**
 * Reads and discards the rest of a request body nobody read (refused as too large, say), so the
 * connection can carry the next request and the client, still sending, reads its answer instead of
 * a reset. A client that keeps sending past the bounds is disconnected.
 */
function drain(req) {
  if (req.complete || req.destroyed) return;
  let left = DRAIN_BYTES;
  const timer = setTimeout(() => req.destroy(), DRAIN_MS);
  timer.unref();
  req.on("data", (chunk) => {
    left -= chunk.length;
    if (left < 0) req.destroy();
  });
  req.on("error", () => {});
  req.on("close", () => clearTimeout(timer));
  req.resume();
}

/** A host header fit to build the request URL from (a malformed one would make the URL throw). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function requestOf(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const host = HOST.test(req.headers.host ?? "") ? req.headers.host : "localhost";
  const init = { method: req.method, headers };
  if (req.method !== "GET" && req.method !== "HEAD") {
    init.body = bodyOf(req);
    init.duplex = "half";
  }
  return new Request(`http://${host}${req.url}`, init);
}

/**
 * Serves one request with `handler` (a route handler: Request → Response). `closing()` says the
 * server is shutting down, when every answer asks the client to close its connection.
 *
 * @param {(req: Request) => Response | Promise<Response>} handler
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 * @param {{ closing?: () => boolean, log?: (line: string) => void }} [options]
 */
export async function serveDirect(handler, req, res, { closing = () => false, log = console.error } = {}) {
  const logError = (msg) => log(JSON.stringify({ level: "error", time: new Date().toISOString(), context: "direct-route", path: req.url?.split("?")[0], msg }));
  let status = 500;
  let headers;
  let body;
  const tasks = [];
  try {
    const answer = await afterResponse.run(tasks, () => handler(requestOf(req)));
    status = answer.status;
    headers = answer.headers;
    body = answer.body ? Buffer.from(await answer.arrayBuffer()) : null;
  } catch (err) {
    // Handlers answer their own errors (lib/http/edge.ts): this is a failure of the bridge itself.
    logError(String(err?.message ?? err));
    headers = new Headers({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    const error = { code: "internal_error", message: "Something went wrong on our side.", details: [], request_id: `req_${randomUUID().replaceAll("-", "")}` };
    body = Buffer.from(JSON.stringify({ error }));
  }
  if (!res.destroyed) send(req, res, status, headers, body, closing());
  for (const task of tasks) {
    void Promise.resolve()
      .then(task)
      .catch((err) => logError(`work after the answer failed: ${String(err?.message ?? err)}`));
  }
}

function send(req, res, status, headers, body, close) {
  res.statusCode = status;
  for (const [name, value] of STATIC_HEADERS) res.setHeader(name, value);
  const cookies = headers.getSetCookie();
  for (const [name, value] of headers) if (name !== "set-cookie") res.setHeader(name, value);
  if (cookies.length) res.setHeader("set-cookie", cookies);
  if (close) res.setHeader("connection", "close");
  if (body) res.setHeader("content-length", body.length);
  res.end(body);
  drain(req);
}
