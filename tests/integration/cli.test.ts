import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { inArray } from "drizzle-orm";
import { organizations, users } from "@/db/schema";
import { openTestDb, uniq, usingPostgres } from "../helpers/db";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-cli-"));
const created = { orgs: [] as string[], users: [] as string[] };

/** Runs the real CLI as an operator would, on the same database driver as the rest of the suite. */
async function smarfle(...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  return smarfleWith({}, ...args);
}

async function smarfleWith(extra: Record<string, string>, ...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, ...extra };
  if (!usingPostgres) env.PGLITE_DATA_DIR = path.join(dataDir, "pglite");
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, "bin/smarfle.mjs"), ...args, "--json"], { env, cwd: root });
    return { code: 0, json: JSON.parse(stdout), stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, json: e.stdout ? JSON.parse(e.stdout) : {}, stderr: e.stderr };
  }
}

beforeAll(async () => {
  const migrated = await smarfle("db:migrate");
  expect(migrated).toMatchObject({ code: 0, json: { ok: true, driver: usingPostgres ? "postgres" : "pglite" } });
}, 60_000);

afterAll(async () => {
  if (usingPostgres) {
    const handle = await openTestDb();
    if (created.orgs.length) await handle.db.delete(organizations).where(inArray(organizations.id, created.orgs));
    if (created.users.length) await handle.db.delete(users).where(inArray(users.id, created.users));
    await handle.close();
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe(`smarfle CLI (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("db:seed refuses in production without --force", async () => {
    const { code, json } = await smarfleWith({ NODE_ENV: "production" }, "db:seed");
    expect(code).toBe(1);
    expect(json).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("--force") } });
  });

  it("org:create --json prints id, slug, name and plan", async () => {
    const name = `Acme ${uniq()}`;
    const { code, json } = await smarfle("org:create", "--name", name, "--plan", "pro");
    expect(code).toBe(0);
    expect(Object.keys(json).sort()).toEqual(["id", "name", "plan", "slug"]);
    expect(json).toMatchObject({ name, plan: "pro" });
    expect(json.id).toMatch(/^org_/);
    expect(json.slug).toMatch(/^acme-/);
    created.orgs.push(json.id as string);

    const email = `${uniq("op")}@example.test`;
    const user = await smarfle("user:create", "--email", email, "--password", "long enough password", "--org", json.slug as string, "--role", "admin");
    expect(user.code).toBe(0);
    expect(user.json).toMatchObject({ email, org: json.id, role: "admin" });
    expect(user.json.id).toMatch(/^usr_/);
    created.users.push(user.json.id as string);

    const limit = await smarfle("org:set-limit", "--org", json.id as string, "--rpm", "900");
    expect(limit).toMatchObject({ code: 0, json: { org: json.id, rpm: 900, plan_rpm: 600 } });

    const key = await smarfle("key:create", "--org", json.slug as string, "--name", "Zapier", "--scopes", "read,write");
    expect(key.code).toBe(0);
    expect(Object.keys(key.json).sort()).toEqual(["id", "key", "org", "prefix", "scopes"]);
    expect(key.json).toMatchObject({ org: json.id, scopes: ["read", "write"] });
    expect(key.json.key).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    expect(String(key.json.key).startsWith(String(key.json.prefix))).toBe(true);
    const badScope = await smarfle("key:create", "--org", json.slug as string, "--name", "x", "--scopes", "read,everything");
    expect(badScope).toMatchObject({ code: 1, json: { error: { code: "validation_failed" } } });
  }, 60_000);

  it("answers bad input with a JSON error and a non-zero exit code", async () => {
    const missing = await smarfle("org:create");
    expect(missing).toMatchObject({ code: 1, json: { error: { code: "validation_failed" } } });
    const badPlan = await smarfle("org:create", "--name", "X", "--plan", "platinum");
    expect(badPlan).toMatchObject({ code: 1, json: { error: { code: "validation_failed" } } });
    const noOrg = await smarfle("user:create", "--email", "x@example.test", "--password", "long enough password", "--org", "no-such-org");
    expect(noOrg).toMatchObject({ code: 1, json: { error: { code: "not_found" } } });
    const keys = await smarfle("key:create", "--org", "no-such-org", "--name", "n", "--scopes", "read");
    expect(keys).toMatchObject({ code: 1, json: { error: { code: "not_found" } } });
  }, 60_000);

  it.skipIf(usingPostgres)("db:seed creates the demo organization once, with records and a workflow rule", async () => {
    const first = await smarfle("db:seed");
    expect(first).toMatchObject({ code: 0, json: { created: true, slug: "demo", email: "demo@smarfle.dev" } });
    const again = await smarfle("db:seed");
    expect(again).toMatchObject({ code: 0, json: { created: false } });
    const { PGlite } = await import("@electric-sql/pglite");
    const pg = await PGlite.create({ dataDir: path.join(dataDir, "pglite") });
    try {
      const counts = await pg.query<{ clients: number; rules: number; audit: number }>(
        "select (select count(*) from clients)::int as clients, (select count(*) from workflow_rules where enabled)::int as rules, (select count(*) from audit_log)::int as audit",
      );
      expect(counts.rows[0]).toMatchObject({ clients: 6, rules: 1 });
      expect(counts.rows[0]!.audit).toBeGreaterThan(6);
    } finally {
      await pg.close();
    }
  }, 60_000);

  it.skipIf(usingPostgres)("refuses to open the embedded database while another process holds it", async () => {
    // This test process is alive: its pid in the lock file stands for a running dev server.
    const lock = path.join(dataDir, "pglite.lock");
    fs.writeFileSync(lock, String(process.pid));
    try {
      const { code, json } = await smarfle("org:create", "--name", "Blocked");
      expect(code).toBe(1);
      expect(json).toMatchObject({ error: { code: "unavailable" } });
      expect(String((json.error as { message: string }).message)).toMatch(/open in another process \(pid \d+\)/);
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }, 60_000);
});
