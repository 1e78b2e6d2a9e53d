#!/usr/bin/env node
// `npm start` (and `npm run dev` with --dev): Next.js, with the app told each request's TCP peer
// (route handlers get a Request without a socket). Before Next.js sees a request, its
// `x-smarfle-peer` header is replaced with "<token> <peer address>"; the token is drawn here at
// start-up and shared with the app (same process) on globalThis. lib/http/client-address.ts trusts
// the header only with that token, so a client cannot forge its address.
//
//   node server.mjs [--dev] [-p PORT] [-H HOST]
//
// Production runs Next.js's own `next start` in this process (its request path is the fastest;
// a `next()` custom server measured about a quarter slower here), with the header set as Node's
// HTTP server emits each request. Lead capture is answered there too, by its route handler called
// directly (server/direct.mjs). Development uses a `next()` custom server, because `next dev`
// serves from a child process.
import http from "node:http";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { directHandler, serveDirect } from "./server/direct.mjs";

const root = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dev = args.includes("--dev");
const arg = (...names) => {
  const i = args.findIndex((a) => names.includes(a));
  return i >= 0 ? args[i + 1] : undefined;
};

// As `next start` / `next dev` do. The app validates the rest of the environment (lib/env.ts) as
// it starts (instrumentation.ts), and exits naming what is missing or malformed.
process.env.NODE_ENV ??= dev ? "development" : "production";
const port = Number(arg("-p", "--port") ?? process.env.PORT ?? 3000);
// The app builds links in mail from PORT when APP_URL is unset: keep it true to -p.
process.env.PORT = String(port);
const hostname = arg("-H", "--hostname");

const PEER_HEADER = "x-smarfle-peer";
const token = randomBytes(24).toString("base64url");
globalThis[Symbol.for("smarfle.peer-token")] = token;

/** Node keeps one value per (lower-cased) header name: this replaces whatever the client sent. */
function markPeer(req) {
  req.headers[PEER_HEADER] = `${token} ${req.socket?.remoteAddress ?? ""}`;
}

// Every HTTP server this process listens with (Next.js's own in production), for the shutdown.
const httpServers = new Set();
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...listenArgs) {
  httpServers.add(this);
  return listen.apply(this, listenArgs);
};
process.env.NEXT_MANUAL_SIG_HANDLE = "true";
// Graceful shutdown (a deploy, a scale-down): on SIGTERM or SIGINT stop accepting connections,
// let the requests in progress finish, then stop the background work through the app's shutdown
// hook (lib/ops/lifecycle.ts: in-flight webhook attempts end — at most 15 s each —, connector runs
// and imports hand their work back, logs and counters are flushed) and exit 0. A second signal, or
// SHUTDOWN_DEADLINE_MS, ends the process at once with 1. Next.js's own handlers, which exit at
// once (143), are off: NEXT_MANUAL_SIG_HANDLE.
const SHUTDOWN_DEADLINE_MS = 19_000;
let stopping = false;
const line = (msg, extra = {}) =>
  console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), pid: process.pid, context: "server", ...extra, msg }));
async function shutdown(signal) {
  if (stopping) {
    line("second signal: exiting now", { signal });
    process.exit(1);
  }
  stopping = true;
  const started = Date.now();
  line("shutting down: no new connections; finishing requests and background work", { signal });
  const deadline = setTimeout(() => {
    line("shutdown deadline passed: exiting with work unfinished", { signal });
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  const closing = [...httpServers].map((s) => {
    // Keep-alive connections close as soon as their current request is answered.
    s.on("request", (_req, res) => {
      if (!res.headersSent) res.setHeader("connection", "close");
    });
    const closed = new Promise((resolve) => s.close(resolve));
    s.closeIdleConnections();
    return closed;
  });
  const stopBackground = globalThis[Symbol.for("smarfle.shutdown")];
  await Promise.allSettled([...closing, typeof stopBackground === "function" ? stopBackground() : undefined]);
  line("shut down cleanly", { signal, duration_ms: Date.now() - started });
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void shutdown(signal));

if (dev) {
  const { default: next } = await import("next");
  const server = http.createServer();
  const app = next({ dev, dir: root, hostname: hostname ?? "localhost", port, httpServer: server });
  const handle = app.getRequestHandler();
  await app.prepare();
  server.on("request", (req, res) => {
    markPeer(req);
    handle(req, res).catch((err) => {
      console.error("[server] request failed", err);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  const upgrade = app.getUpgradeHandler();
  server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
  server.listen(port, hostname, () => console.log(`Smarfle (development) listening on http://${hostname ?? "localhost"}:${port}`));
} else {
  // Every HTTP server in this process is Next.js's own: mark each request as it is emitted, and
  // serve the direct routes (server/direct.mjs: lead capture) without Next.js's request path.
  const emit = http.Server.prototype.emit;
  const closing = () => stopping;
  http.Server.prototype.emit = function (event, ...rest) {
    if (event === "request") {
      const [req, res] = rest;
      markPeer(req);
      const handler = directHandler(req);
      if (handler) {
        void serveDirect(handler, req, res, { closing });
        return true;
      }
    }
    return emit.call(this, event, ...rest);
  };
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  process.argv = [process.argv[0], nextBin, "start", "-p", String(port), ...(hostname ? ["-H", hostname] : [])];
  await import(nextBin);
}
