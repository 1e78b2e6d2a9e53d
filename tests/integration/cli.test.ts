import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq, inArray, sql } from "drizzle-orm";
import { apiKeys, auditLog, organizations, users } from "@/db/schema";
import { openPglite } from "@/db/drivers/pglite";
import { openTestDb, uniq, usingPostgres } from "../helpers/db";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-cli-"));
const created = { orgs: [] as string[], users: [] as string[] };

/** Runs the real CLI as an operator would, on the same database driver as the rest of the suite. */
async function smarfle(...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  return smarfleIn({}, ...args);
}

async function smarfleIn(extraEnv: Record<string, string>, ...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env };
  if (!usingPostgres) env.PGLITE_DATA_DIR = path.join(dataDir, "pglite");
  Object.assign(env, extraEnv);
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
    const { code, json } = await smarfleIn({ NODE_ENV: "production" }, "db:seed");
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
    // Written through the domain: the membership comes with its audit entry.
    const handle = usingPostgres ? await openTestDb() : await openPglite(path.join(dataDir, "pglite"));
    try {
      const entries = await handle.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, json.id as string), eq(auditLog.action, "member.added")));
      expect(entries).toMatchObject([{ actorType: "system", actorLabel: "operator", targetId: user.json.id, after: { email, role: "admin" } }]);
    } finally {
      await handle.close();
    }

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

  it("key:list shows an org's keys without the secret, key:revoke refuses one at once and is audited", async () => {
    const org = await smarfle("org:create", "--name", `Leak ${uniq()}`);
    created.orgs.push(org.json.id as string);
    const made = await smarfle("key:create", "--org", org.json.slug as string, "--name", "Leaked", "--scopes", "read");
    const listed = await smarfle("key:list", "--org", org.json.slug as string);
    expect(listed.code).toBe(0);
    expect(listed.json).toMatchObject({
      org: org.json.id,
      data: [{ id: made.json.id, name: "Leaked", prefix: made.json.prefix, status: "active", scopes: ["read"] }],
    });
    expect(JSON.stringify(listed.json)).not.toContain(String(made.json.key));

    const revoked = await smarfle("key:revoke", "--org", org.json.id as string, "--key", made.json.id as string);
    expect(revoked).toMatchObject({ code: 0, json: { id: made.json.id, revoked: true } });
    const after = await smarfle("key:list", "--org", org.json.id as string);
    expect((after.json.data as { status: string }[])[0]!.status).toBe("revoked");

    // The CLI's own database: on PGlite, the data directory it used (not this file's in-memory one).
    const handle = usingPostgres ? await openTestDb() : await openPglite(path.join(dataDir, "pglite"));
    try {
      const entries = await handle.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, org.json.id as string), eq(auditLog.action, "api_key.revoked")));
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actorType: "system", actorLabel: "operator", targetId: made.json.id });
      const [gone] = await handle.db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.id, made.json.id as string));
      expect(gone!.revokedAt).not.toBeNull();
    } finally {
      await handle.close();
    }

    // Another org's key cannot be revoked by naming the wrong org.
    const other = await smarfle("org:create", "--name", `Other ${uniq()}`);
    created.orgs.push(other.json.id as string);
    const theirs = await smarfle("key:create", "--org", other.json.id as string, "--name", "Theirs", "--scopes", "read");
    const crossed = await smarfle("key:revoke", "--org", org.json.id as string, "--key", theirs.json.id as string);
    expect(crossed).toMatchObject({ code: 1, json: { error: { code: "not_found" } } });
    const missingKey = await smarfle("key:revoke", "--org", org.json.id as string);
    expect(missingKey).toMatchObject({ code: 1, json: { error: { code: "validation_failed" } } });
  }, 60_000);

  it.skipIf(usingPostgres)(
    "on a fresh embedded database, any command applies the migrations first",
    async () => {
      const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-cli-fresh-"));
      try {
        const made = await smarfleIn({ PGLITE_DATA_DIR: path.join(fresh, "pglite") }, "org:create", "--name", "First Org");
        expect(made).toMatchObject({ code: 0, json: { name: "First Org", slug: "first-org" } });
      } finally {
        fs.rmSync(fresh, { recursive: true, force: true });
      }
    },
    60_000,
  );

  it.runIf(usingPostgres)(
    "on PostgreSQL, a command against a schema that is behind says to run db:migrate",
    async () => {
      const url = new URL(process.env.DATABASE_URL!);
      const name = `smarfle_cli_${uniq("empty").replace(/-/g, "_")}`;
      const admin = await openTestDb();
      try {
        await admin.db.execute(sql.raw(`create database ${name}`));
        url.pathname = `/${name}`;
        const { code, json } = await smarfleIn({ DATABASE_URL: url.toString() }, "org:create", "--name", "Too Early");
        expect(code).toBe(1);
        expect(json).toMatchObject({ error: { code: "unavailable" } });
        expect(String((json.error as { message: string }).message)).toMatch(/schema is behind.*Run `npx smarfle db:migrate`/);
      } finally {
        await admin.db.execute(sql.raw(`drop database if exists ${name} with (force)`));
        await admin.close();
      }
    },
    60_000,
  );

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

  it.skipIf(usingPostgres)(
    "db:seed creates the demo organization once, with records and a workflow rule",
    async () => {
      const first = await smarfle("db:seed");
      expect(first).toMatchObject({ code: 0, json: { created: true, slug: "demo", email: "demo@smarfle.dev" } });
      const again = await smarfle("db:seed");
      expect(again).toMatchObject({ code: 0, json: { created: false } });
      const { PGlite } = await import("@electric-sql/pglite");
      const pg = await PGlite.create({ dataDir: path.join(dataDir, "pglite") });
      try {
        const counts = await pg.query<{ clients: number; rules: number; keys: number; endpoints: number; audit: number }>(
          `with demo as (select id from organizations where slug = 'demo')
           select (select count(*) from clients where org_id = (select id from demo))::int as clients,
                  (select count(*) from workflow_rules where enabled and org_id = (select id from demo))::int as rules,
                  (select count(*) from api_keys where org_id = (select id from demo))::int as keys,
                  (select count(*) from webhook_endpoints where org_id = (select id from demo))::int as endpoints,
                  (select count(*) from audit_log where org_id = (select id from demo))::int as audit`,
        );
        // Six customers typed in, 36 leads over the last 30 days, two keys and a paused endpoint: once.
        expect(counts.rows[0]).toMatchObject({ clients: 42, rules: 1, keys: 2, endpoints: 1 });
        expect(counts.rows[0]!.audit).toBeGreaterThan(6);
      } finally {
        await pg.close();
      }
    },
    60_000,
  );

  it.skipIf(usingPostgres)(
    "refuses to open the embedded database while another process holds it",
    async () => {
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
    },
    60_000,
  );
});
