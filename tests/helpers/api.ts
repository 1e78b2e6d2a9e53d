import { createApiKey } from "@/lib/api-keys/keys";
import type { Db } from "@/db/client";
import type { TestOrg } from "./db";

import { randomInt } from "node:crypto";
import { peerHeader } from "./peer";

export const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** A request from a fresh client address (what server.mjs would report as the TCP peer). */
export const fromRandomIp = (ip: string = randomIp()) => peerHeader(ip);

// Route handlers type their own params; any handler of this shape may be called here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: Request, route: { params: Promise<any> }) => Promise<Response>;

/** Calls a route handler exactly as Next.js would, without a server in between. */
export async function call(
  handler: Handler,
  options: {
    method?: string;
    path?: string;
    key?: string | null;
    header?: "bearer" | "x-api-key";
    body?: unknown;
    headers?: Record<string, string>;
    params?: Record<string, string>;
    ip?: string;
  } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers = new Headers(options.headers);
  if (options.key) {
    if (options.header === "x-api-key") headers.set("x-api-key", options.key);
    else headers.set("authorization", `Bearer ${options.key}`);
  }
  // A fresh client address per call unless a test names one: per-IP limits are shared by every
  // test file using the same Redis.
  for (const [k, v] of Object.entries(fromRandomIp(options.ip))) headers.set(k, v);
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const req = new Request(`http://127.0.0.1${options.path ?? "/api/v1/me"}`, { method: options.method ?? "GET", headers, body });
  const res = await handler(req, { params: Promise.resolve(options.params ?? {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

export async function makeKey(db: Db, org: TestOrg, scopes: string[], name = "test key") {
  return createApiKey(
    db,
    { orgId: org.org.id, actor: { type: "user", id: org.users.owner.id, label: org.users.owner.email }, source: "ui" },
    { name, scopes, createdByUserId: org.users.owner.id },
  );
}
