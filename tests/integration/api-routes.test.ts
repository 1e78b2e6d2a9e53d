import { describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { handlerOf, METHODS } from "@/lib/api/define";
import { API_ROUTES } from "@/lib/api/routes";
import { openApiDocument } from "@/lib/openapi/document";
import { RECORD_TYPES } from "@/lib/records/registry";
import { API_ROUTES as SECURITY_SUITE } from "../helpers/routes";

/**
 * The declarations (lib/api/routes.ts) are the one list of the API's routes: what app/api/v1 serves
 * must be exactly what is declared, each export being its declaration's handler.
 */
const root = path.resolve(import.meta.dirname, "../../app/api/v1");

/** Every route file under app/api/v1 but the JSON 404 catch-all and the public document, with its URL template. */
function routeFiles(): { file: string; path: string }[] {
  const out: { file: string; path: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const segments = path.relative(root, dir).split(path.sep).filter(Boolean);
        if (segments.some((s) => s.startsWith("[...")) || segments[0] === "openapi.json") continue;
        out.push({ file: full, path: `/api/v1/${segments.map((s) => s.replace(/^\[(\w+)\]$/, "{$1}")).join("/")}`.replace(/\/$/, "") });
      }
    }
  };
  walk(root);
  return out;
}

async function served(): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const { file, path: url } of routeFiles()) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS) if (mod[method]) out.set(`${method} ${url}`, mod[method]);
  }
  return out;
}

describe("the route declarations", () => {
  it("match what app/api/v1 serves, both ways, each export being its declaration's handler", async () => {
    const exports = await served();
    const declared = new Map(API_ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
    expect(declared.size).toBe(API_ROUTES.length); // no route declared twice
    expect([...exports.keys()].sort()).toEqual([...declared.keys()].sort());
    for (const [name, handler] of exports) expect(handler, name).toBe(handlerOf(declared.get(name)!));
    expect(exports.size).toBeGreaterThan(25);
  });

  it("are all in the OpenAPI document, record routes once per type, and nothing else is", () => {
    const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, { "x-scope": string }>> };
    // Beside the keyed routes, only lead capture and inbound webhooks (their own authentication).
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith("/api/v1/"))).toEqual(["/api/webhook/leads", "/api/inbound/{sourceId}"]);
    const keyed = Object.entries(doc.paths).filter(([p]) => p.startsWith("/api/v1/"));
    const documented = keyed.flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${p} ${op["x-scope"]}`));
    const expected = API_ROUTES.flatMap((r) =>
      (r.path.includes("{type}") ? RECORD_TYPES.map((t) => r.path.replace("{type}", t)) : [r.path]).map((p) => `${r.method} ${p} ${r.scope}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
  });

  it("are all in the security suite, with their scopes", () => {
    expect(SECURITY_SUITE.map((r) => `${r.method} ${r.path} ${r.scope}`)).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path} ${r.scope}`));
    expect(SECURITY_SUITE.map((r) => `${r.method} ${r.path}`)).toContain("POST /api/v1/imports");
  });
});
