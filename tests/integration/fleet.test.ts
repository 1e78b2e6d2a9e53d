import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_APPLICATION_PREFIX, type DbHandle } from "@/db/client";
import { openPostgres } from "@/db/drivers/postgres";
import { otherServers, perServerLimitsWarning } from "@/lib/ops/fleet";
import { useTestDb, usingPostgres } from "../helpers/db";

let handle: DbHandle;

beforeAll(async () => {
  handle = await useTestDb();
});

afterAll(async () => {
  await handle.close();
});

describe.runIf(usingPostgres)("servers sharing one database", () => {
  it("a server sees the others by their connections, and not itself", async () => {
    // Pids far above Linux's default pid_max: no real server of this run has them.
    const me = await openPostgres(process.env.DATABASE_URL!, { max: 1, applicationName: `${SERVER_APPLICATION_PREFIX}9000001` });
    const other = await openPostgres(process.env.DATABASE_URL!, { max: 1, applicationName: `${SERVER_APPLICATION_PREFIX}9000002` });
    try {
      await other.db.execute("select 1");
      const before = await otherServers(me.db, 9000001);
      expect(before).toBeGreaterThanOrEqual(1);
      await other.close();
      const after = await otherServers(me.db, 9000001);
      expect(after).toBe(before - 1);
      expect(perServerLimitsWarning(1)).toMatch(/1 other server shares this database.*REDIS_URL/);
    } finally {
      await me.close();
    }
  });
});
