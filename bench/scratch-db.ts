import { spawnSync } from "node:child_process";
import { setDbHandle, type DbHandle } from "@/db/client";
import { openPostgres } from "@/db/drivers/postgres";
import { migrateDb } from "@/db/migrate";

const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

function psql(sqlText: string) {
  spawnSync("psql", [ADMIN_URL, "-q", "-c", sqlText], { stdio: "inherit" });
}

/** A fresh, migrated PostgreSQL database for one benchmark run, installed as the app's handle. */
export async function openScratchDatabase(prefix: string, max: number): Promise<DbHandle & { drop(): Promise<void> }> {
  const name = `smarfle_bench_${prefix}_${Date.now()}`;
  psql(`CREATE DATABASE ${name}`);
  const handle = await openPostgres(`postgres://postgres@127.0.0.1:5432/${name}`, { max });
  setDbHandle(handle);
  await migrateDb(handle);
  return {
    ...handle,
    async drop() {
      await handle.close();
      psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs a benchmark's main and exits with its outcome (the database pool would keep it alive). */
export function run(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
