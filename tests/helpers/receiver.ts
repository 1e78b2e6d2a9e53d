import http from "node:http";
import type { AddressInfo } from "node:net";
import { contractViolation } from "./contracts";

export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1. `respond` decides each answer (status, headers, delay);
 * every request is recorded with its raw body and headers. Every webhook it receives is checked
 * against its event type's JSON Schema: `close()` fails the test if one broke its contract.
 */
export async function startReceiver(
  respond: (req: Received, n: number) => { status: number; headers?: Record<string, string>; delayMs?: number; body?: string } = () => ({ status: 200 }),
) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const r: Received = { headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(r);
      const answer = respond(r, received.length);
      const send = () => {
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.body ?? "ok");
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      const broken = received
        .filter((r) => r.headers["x-smarfle-event"])
        .map((r) => contractViolation(JSON.parse(r.body)))
        .filter(Boolean);
      if (broken.length) throw new Error(`webhook bodies that break their event contract:\n${broken.join("\n")}`);
    },
  };
}

export async function waitFor<T>(fn: () => T | Promise<T>, { timeoutMs = 15_000, intervalMs = 50, what = "condition" } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
