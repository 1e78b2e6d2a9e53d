import { parseArgs } from "node:util";
import { closeDb, openConfigured, setDbHandle, type DbHandle } from "@/db/client";
import { migrateDb, migrationStatus } from "@/db/migrate";
import { DatabaseLockedError } from "@/db/pglite-lock";
import { seedDemo, DEMO } from "@/lib/demo/seed";
import { AppError } from "@/lib/errors";
import { env, EnvError } from "@/lib/env";
import { reencryptAll } from "@/lib/crypto/reencrypt";
import type { PlanId, Role } from "@/db/schema";
import type { Actor } from "@/lib/audit/write";
import { createMember } from "@/lib/orgs/invitations";
import { createOrganization, planSchema, requireOrg, roleSchema, setOrgRateLimit } from "@/lib/orgs/service";
import { planLimits } from "@/lib/orgs/plans";
import { createApiKey, listApiKeys, revokeApiKey } from "@/lib/api-keys/keys";
import { describeError } from "@/lib/log";

/**
 * The operator CLI. Every command takes --json for scripts: the result on stdout as one JSON
 * object, or {"error": {...}} and exit code 1.
 */

const USAGE = `Usage: smarfle <command> [options] [--json]

Commands:
  db:migrate                                   apply pending database migrations
  db:seed [--force]                            create the demo organization (once; --force in production)
  org:create --name N [--plan starter|pro|business]
  user:create --email E --password P --org O [--role owner|admin|member]
  key:create --org O --name N --scopes read,write
  key:list --org O                             the org's API keys (never the keys themselves)
  key:revoke --org O --key KEY_ID              refuse a key from now on (audited)
  org:set-limit --org O --rpm N                raise (or lower) one org's API rate limit
  secrets:reencrypt [--org O]                  rewrite every stored secret under SMARFLE_ENCRYPTION_KEY

O is an organization id (org_…) or slug. On the embedded database every command applies pending
migrations first; on PostgreSQL, run db:migrate after an upgrade.`;

type Flags = Record<string, string | boolean | undefined>;

/** Who the audit log names for a change made from the command line. */
const OPERATOR: Actor = { type: "system", id: null, label: "operator" };

interface Command {
  needsDb: boolean;
  /** Commands that bring the schema up to date themselves skip the "schema is behind" check. */
  migrates?: boolean;
  run(flags: Flags, handle: DbHandle): Promise<{ json: unknown; text: string }>;
}

function required(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== "string" || v.trim() === "") {
    throw new AppError("validation_failed", `--${name} is required.`, [{ path: name, message: "is required" }]);
  }
  return v;
}

const commands: Record<string, Command> = {
  "db:migrate": {
    needsDb: true,
    migrates: true,
    async run(_flags, handle) {
      await migrateDb(handle);
      return { json: { ok: true, driver: handle.driver }, text: `Migrations applied (${handle.driver}).` };
    },
  },
  "db:seed": {
    needsDb: true,
    migrates: true,
    async run(flags, handle) {
      // The demo owner's password is in the README: never on a production database by accident.
      if (env().NODE_ENV === "production" && flags.force !== true) {
        throw new AppError(
          "forbidden",
          "db:seed creates a demo owner whose password is public; it refuses to run with NODE_ENV=production unless given --force.",
        );
      }
      await migrateDb(handle);
      const result = await seedDemo(handle.db);
      const text = result.created
        ? `Demo organization "${DEMO.orgName}" created. Sign in as ${DEMO.email} / ${DEMO.password}`
        : `Demo organization already present. Sign in as ${DEMO.email} / ${DEMO.password}`;
      return { json: { created: result.created, org: result.org.id, slug: result.org.slug, email: DEMO.email }, text };
    },
  },
  "org:create": {
    needsDb: true,
    async run(flags, handle) {
      const plan = planSchema.parse(flags.plan ?? "starter") as PlanId;
      const org = await createOrganization(handle.db, { name: required(flags, "name"), plan });
      return {
        json: { id: org.id, slug: org.slug, name: org.name, plan: org.plan },
        text: `Created organization ${org.name} (${org.id}, slug ${org.slug}, plan ${org.plan}).`,
      };
    },
  },
  "user:create": {
    needsDb: true,
    async run(flags, handle) {
      const role = roleSchema.parse(flags.role ?? "member") as Role;
      const email = required(flags, "email");
      const password = required(flags, "password");
      const orgRef = required(flags, "org");
      const target = await requireOrg(handle.db, orgRef);
      const { user, org } = await createMember(handle.db, { orgId: target.id, actor: OPERATOR, source: "system" }, { email, password, role });
      return {
        json: { id: user.id, email: user.email, org: org.id, role },
        text: `Created user ${user.email} (${user.id}) as ${role} of ${org.name}.`,
      };
    },
  },
  "key:create": {
    needsDb: true,
    async run(flags, handle) {
      const org = await requireOrg(handle.db, required(flags, "org"));
      const scopes = required(flags, "scopes")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const { key, apiKey } = await createApiKey(handle.db, { orgId: org.id, actor: OPERATOR, source: "system" }, { name: required(flags, "name"), scopes });
      return {
        json: { id: apiKey.id, key, prefix: apiKey.prefix, scopes: apiKey.scopes, org: org.id },
        text: `Created API key ${apiKey.name} (${apiKey.id}) for ${org.name} with scopes ${apiKey.scopes.join(", ")}.\n\n  ${key}\n\nThis is the only time the key is shown. Store it now.`,
      };
    },
  },
  "key:list": {
    needsDb: true,
    async run(flags, handle) {
      const org = await requireOrg(handle.db, required(flags, "org"));
      const keys = await listApiKeys(handle.db, org.id);
      const json = keys.map((k) => ({
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes,
        status: k.status,
        creator: k.creator,
        created_at: k.createdAt.toISOString(),
        last_used_at: k.lastUsedAt?.toISOString() ?? null,
        expires_at: k.expiresAt?.toISOString() ?? null,
      }));
      const text = keys.length
        ? keys.map((k) => `${k.id}  ${k.prefix}…  ${k.status.padEnd(8)}  ${k.scopes.join(",").padEnd(24)}  ${k.name}`).join("\n")
        : `${org.name} has no API keys.`;
      return { json: { org: org.id, data: json }, text };
    },
  },
  "key:revoke": {
    needsDb: true,
    async run(flags, handle) {
      const org = await requireOrg(handle.db, required(flags, "org"));
      const keyId = required(flags, "key");
      await revokeApiKey(handle.db, { orgId: org.id, actor: OPERATOR, source: "system" }, keyId);
      return { json: { id: keyId, org: org.id, revoked: true }, text: `Revoked API key ${keyId} of ${org.name}: it is refused from now on.` };
    },
  },
  "secrets:reencrypt": {
    needsDb: true,
    async run(flags, handle) {
      const org = typeof flags.org === "string" ? await requireOrg(handle.db, flags.org) : undefined;
      const reports = await reencryptAll(handle.db, { orgId: org?.id });
      const rewritten = reports.reduce((n, r) => n + r.rewritten, 0);
      const lines = reports.map((r) => `  ${r.table}.${r.column}: ${r.rewritten} of ${r.checked} rewritten`);
      return {
        json: { rewritten, columns: reports },
        text: `${rewritten} secret(s) rewritten under the current key.\n${lines.join("\n")}${rewritten ? "\nRun it once more: it should rewrite nothing. Then SMARFLE_ENCRYPTION_KEY_PREVIOUS can go." : ""}`,
      };
    },
  },
  "org:set-limit": {
    needsDb: true,
    async run(flags, handle) {
      const rpmRaw = required(flags, "rpm");
      const rpm = /^\d+$/.test(rpmRaw) ? Number(rpmRaw) : NaN;
      const org = await setOrgRateLimit(handle.db, required(flags, "org"), Number.isNaN(rpm) ? -1 : rpm);
      const plan = planLimits(org.plan);
      return {
        json: { org: org.id, rpm: org.rateLimitRpm, plan: org.plan, plan_rpm: plan.rateLimitRpm },
        text: `${org.name} (${org.id}) may now make ${org.rateLimitRpm} API requests per minute (plan default ${plan.rateLimitRpm}).`,
      };
    },
  },
};

/**
 * The embedded database belongs to this install, so it is brought up to date on the spot (as
 * `npm run dev` does). A PostgreSQL database may be shared with running servers: say what to do
 * instead of failing later on a missing table or column.
 */
async function ensureSchema(handle: DbHandle): Promise<void> {
  if (handle.driver === "pglite") return migrateDb(handle);
  const { pending } = await migrationStatus(handle);
  if (pending.length > 0) {
    throw new AppError(
      "unavailable",
      `The database schema is behind this version of Smarfle (${pending.length} migration${pending.length === 1 ? "" : "s"} pending: ${pending.join(", ")}). Run \`npx smarfle db:migrate\` first.`,
    );
  }
}

function errorOf(err: unknown): { code: string; message: string; details?: unknown } {
  if (err instanceof AppError) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof DatabaseLockedError) return { code: "unavailable", message: err.message };
  if (err instanceof EnvError) return { code: "invalid_config", message: err.message };
  if (err && typeof err === "object" && "issues" in err) {
    const issues = (err as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    return { code: "validation_failed", message: issues.map((i) => i.message).join("; ") };
  }
  // describeError keeps a failed query's bound parameters (password hashes…) out of the output.
  return { code: "internal_error", message: describeError(err) };
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  const command = commands[name];
  const { values: flags } = parseArgs({
    args: rest,
    strict: false,
    options: {
      json: { type: "boolean" },
      name: { type: "string" },
      plan: { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      org: { type: "string" },
      role: { type: "string" },
      scopes: { type: "string" },
      rpm: { type: "string" },
      key: { type: "string" },
      force: { type: "boolean" },
    },
  });
  const json = flags.json === true;
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${USAGE}`);
    return 1;
  }
  let handle: DbHandle | undefined;
  try {
    if (command.needsDb) {
      handle = await openConfigured();
      setDbHandle(handle);
      if (!command.migrates) await ensureSchema(handle);
    }
    const out = await command.run(flags, handle!);
    console.log(json ? JSON.stringify(out.json) : out.text);
    return 0;
  } catch (err) {
    const error = errorOf(err);
    if (json) console.log(JSON.stringify({ error }));
    else console.error(`Error: ${error.message}`);
    return 1;
  } finally {
    if (handle) await closeDb();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
