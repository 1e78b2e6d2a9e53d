// A throwaway PostgreSQL database, a production build and a running server for a benchmark.
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build, freePort, smarfle, startServer } from "../scripts/prod-server.mjs";

const pgAdmin = "postgres://postgres@127.0.0.1:5432/postgres";

function psql(sqlText) {
  const r = spawnSync("psql", [pgAdmin, "-q", "-c", sqlText], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`psql failed: ${sqlText}`);
}

/**
 * Creates the database, builds (unless BENCH_SKIP_BUILD=1), migrates, makes an org on the
 * Business plan with a limit no benchmark reaches, an owner and an API key with `scopes`, starts
 * the server.
 */
export async function benchServer({ scopes }) {
  const dbName = `smarfle_bench_${Date.now()}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-bench-"));
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: "production",
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    AUTH_SECRET: randomBytes(32).toString("base64"),
    SMARFLE_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    // The baseline routes under /api/bench/* answer 404 without it.
    SMARFLE_BENCH: "1",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  psql(`CREATE DATABASE ${dbName}`);
  let server;
  const extras = [];
  const cleanup = async () => {
    await server?.stop();
    for (const x of extras) await x.stop();
    psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    if (process.env.BENCH_SKIP_BUILD !== "1") build(env);
    smarfle(env, "db:migrate");
    const org = smarfle(env, "org:create", "--name", "Bench", "--plan", "business", "--json");
    smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "1000000");
    // A member, as every real org has: each lead notifies them.
    smarfle(env, "user:create", "--email", `owner-${Date.now()}@bench.test`, "--password", "a bench password", "--org", org.id, "--role", "owner", "--json");
    const { key } = smarfle(env, "key:create", "--org", org.id, "--name", "bench", "--scopes", scopes, "--json");
    server = await startServer(env, { port, logFile: path.join(tmp, "server.log"), readyPath: "/api/bench/static" });
    /** Stops the server and starts it again on the same port and database, with `extra` in its environment. */
    const restart = async (extra = {}) => {
      await server.stop();
      server = await startServer({ ...env, ...extra }, { port, logFile: path.join(tmp, "server.log"), readyPath: "/api/bench/static" });
    };
    /** A second server on its own port, same build and database, with `extra` in its environment. */
    const startExtra = async (extra = {}) => {
      const x = await startServer(
        { ...env, ...extra },
        { port: await freePort(), logFile: path.join(tmp, `server-${extras.length + 2}.log`), readyPath: "/api/bench/static" },
      );
      extras.push(x);
      return x;
    };
    return { url: server.url, key, org, env, databaseUrl: env.DATABASE_URL, cleanup, restart, startExtra };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
