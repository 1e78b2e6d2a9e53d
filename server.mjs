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
// HTTP server emits each request. Development uses a `next()` custom server, because `next dev`
// serves from a child process.
import http from "node:http";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createRequire } from "node:module";
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
  // Every HTTP server in this process is Next.js's own: mark each request as it is emitted.
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, ...rest) {
    if (event === "request") markPeer(rest[0]);
    return emit.call(this, event, ...rest);
  };
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  process.argv = [process.argv[0], nextBin, "start", "-p", String(port), ...(hostname ? ["-H", hostname] : [])];
  await import(nextBin);
}
