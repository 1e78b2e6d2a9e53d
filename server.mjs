#!/usr/bin/env node
// `npm start`: Next.js behind a plain Node HTTP server, so the app knows each request's TCP peer
// (route handlers get a Request without a socket). On every request the server replaces any
// `x-smarfle-peer` header with "<token> <peer address>"; the token is drawn here at start-up and
// shared with the app (same process) on globalThis. lib/http/client-address.ts trusts the header
// only with that token, so a client cannot forge its address.
//
//   node server.mjs [--dev] [-p PORT] [-H HOST]
import http from "node:http";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

const PEER_HEADER = "x-smarfle-peer";
const token = randomBytes(24).toString("base64url");
globalThis[Symbol.for("smarfle.peer-token")] = token;

const port = Number(arg("-p", "--port") ?? process.env.PORT ?? 3000);
const hostname = arg("-H", "--hostname");

const { default: next } = await import("next");
const server = http.createServer();
const app = next({ dev, dir: root, hostname: hostname ?? "localhost", port, httpServer: server });
const handle = app.getRequestHandler();
await app.prepare();

server.on("request", (req, res) => {
  // Node keeps one value per (lower-cased) header name: this replaces whatever the client sent.
  req.headers[PEER_HEADER] = `${token} ${req.socket.remoteAddress ?? ""}`;
  handle(req, res).catch((err) => {
    console.error("[server] request failed", err);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
});
if (dev) {
  const upgrade = app.getUpgradeHandler();
  server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
}

server.listen(port, hostname, () => {
  console.log(`Smarfle ${dev ? "(development) " : ""}listening on http://${hostname ?? "localhost"}:${port}`);
});

// Graceful shutdown (a deploy, a scale-down): on SIGTERM or SIGINT stop accepting connections,
// let the requests in progress finish, then stop the background work through the app's shutdown
// hook (lib/ops/lifecycle.ts: in-flight webhook attempts end — at most 15 s each —, connector runs
// and imports hand their work back, logs and counters are flushed) and exit 0. A second signal,
// or SHUTDOWN_DEADLINE_MS, ends the process at once.
const SHUTDOWN_DEADLINE_MS = 19_000;
let stopping = false;
const line = (msg, extra = {}) => console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), pid: process.pid, context: "server", ...extra, msg }));
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
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  // Keep-alive connections close as soon as their current request is answered.
  server.on("request", (_req, res) => res.setHeader("connection", "close"));
  const stopBackground = globalThis[Symbol.for("smarfle.shutdown")];
  await Promise.allSettled([closed, typeof stopBackground === "function" ? stopBackground() : undefined]);
  line("shut down cleanly", { signal, duration_ms: Date.now() - started });
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void shutdown(signal));
