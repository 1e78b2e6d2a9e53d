import { openPostgres } from "@/db/drivers/postgres";
import { migrateDb } from "@/db/migrate";

/**
 * Against PostgreSQL (DATABASE_URL set), migrate once for the whole run; each test file then
 * works in organizations of its own. On PGlite every file migrates its own in-memory database.
 */
export default async function setup() {
  const url = process.env.DATABASE_URL;
  console.log(`[tests] database: ${url ? "PostgreSQL (DATABASE_URL)" : "PGlite (in memory)"}`);
  if (!url) return;
  const handle = await openPostgres(url, { max: 1 });
  try {
    await migrateDb(handle);
  } finally {
    await handle.close();
  }
}
