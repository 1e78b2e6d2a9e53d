import "server-only";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { emitOperationalEvent } from "@/lib/webhooks/operational";
import { signalDeliveriesCommitted } from "@/lib/webhooks/outbox";

/** How long before an API key expires its org is told (`api_key.expiring`). */
export const KEY_EXPIRY_WARNING_DAYS = 7;
const BATCH = 500;

/**
 * Emits `api_key.expiring` once for each live key that expires within the next 7 days. Once: a
 * key that already has the event is skipped, so this can run as often as the schedule likes.
 * Returns how many keys were announced.
 */
export async function announceExpiringKeys(db: Db, options: { orgIds?: string[] } = {}): Promise<number> {
  const orgs = options.orgIds ? sql`and k.org_id = any(${`{${options.orgIds.join(",")}}`}::text[])` : sql``;
  const due = rowsOf<{ id: string; org_id: string; name: string; prefix: string; expires_at: string | Date }>(
    await db.execute(sql`
      select k.id, k.org_id, k.name, k.prefix, k.expires_at from api_keys k
      where k.revoked_at is null and k.expires_at > now()
        and k.expires_at <= now() + make_interval(days => ${KEY_EXPIRY_WARNING_DAYS}) ${orgs}
        and not exists (select 1 from webhook_events e where e.org_id = k.org_id and e.type = 'api_key.expiring' and e.record_id = k.id)
      order by k.expires_at
      limit ${BATCH}`),
  );
  for (const k of due) {
    const queued = await db.transaction((tx) =>
      emitOperationalEvent(tx, k.org_id, "api_key.expiring", {
        id: k.id,
        name: k.name,
        prefix: `${k.prefix}…`,
        expires_at: new Date(k.expires_at).toISOString(),
        link: "settings/api-keys",
      }),
    );
    signalDeliveriesCommitted(k.org_id, queued);
  }
  return due.length;
}
