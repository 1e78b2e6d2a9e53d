import "server-only";
import fs from "node:fs";
import * as schema from "../schema";
import { listenerRegistry, registerListener } from "../listen";
import { acquirePgliteLock } from "../pglite-lock";
import type { Db, DbHandle, OpenOptions } from "../types";

export async function openPglite(dataDir?: string, options: OpenOptions = {}): Promise<DbHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let release = () => {};
  if (dataDir) {
    release = acquirePgliteLock(dataDir);
    fs.mkdirSync(dataDir, { recursive: true });
  }
  try {
    const client = await PGlite.create(dataDir ? { dataDir } : {});
    const db = drizzle({ client, schema, logger: options.logger }) as unknown as Db;
    // One process owns the embedded database, so every change arrives through this client.
    const registry = listenerRegistry((channel, onNotify, onState) => {
      let stopped = false;
      const unsubscribe = client.listen(channel, onNotify).then(
        (unsub) => {
          if (!stopped) onState(true);
          return unsub;
        },
        () => null,
      );
      return async () => {
        stopped = true;
        onState(false);
        const unsub = await unsubscribe;
        if (unsub && !client.closed) await unsub().catch(() => {});
      };
    });
    registerListener(db, registry.listen);
    return {
      db,
      driver: "pglite",
      async close() {
        await registry.stopAll();
        await client.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
