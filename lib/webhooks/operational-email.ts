import "server-only";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { OPERATIONAL_EVENTS, type OperationalEvent } from "@/lib/events/names";
import { appUrl, sendEmail } from "@/lib/email/send";
import { env } from "@/lib/env";
import { rowsOf } from "@/lib/db-utils";
import { logError } from "@/lib/log";
import { getRateLimiter } from "@/lib/rate-limit";
import { OPERATIONAL_EVENT_INFO } from "./operational-events";

/** Events older than this are not emailed any more (a server that was down for a day stays quiet). */
const MAX_AGE_HOURS = 24;
const BATCH = 50;
/**
 * Emails per organization per hour. A tenant whose endpoint fails thousands of deliveries raises
 * thousands of `delivery.exhausted` events; its admins get the first ones and the bell has them
 * all, and our mail server is not turned into a firehose for one tenant.
 */
export const OPERATIONAL_EMAILS_PER_ORG_HOUR = 20;

/**
 * Emails each operational event (an endpoint failing or disabled, a delivery given up, a key about
 * to expire, a connector paused, an import finished) to its organization's owners and admins, once,
 * when email is configured (SMTP_URL). Events are claimed by inserting a row per event, so with
 * several servers each event is emailed by one of them; the claim comes first, so a failed send
 * is not retried (at most once), and past OPERATIONAL_EMAILS_PER_ORG_HOUR an organization's events
 * are marked without a mail. Reads committed events only: nothing is emailed about a change that
 * rolled back. Returns how many events were claimed.
 */
export async function emailOperationalEvents(db: Db): Promise<number> {
  if (!env().SMTP_URL) return 0;
  const types = `{${OPERATIONAL_EVENTS.join(",")}}`;
  const claimed = rowsOf<{ id: string; org_id: string; type: OperationalEvent; data: Record<string, unknown>; org_name: string; org_slug: string }>(
    await db.execute(sql`
      with pending as (
        select e.id from webhook_events e
        where e.type = any(${types}::text[]) and not e.is_test
          and e.created_at > now() - make_interval(hours => ${MAX_AGE_HOURS})
          and not exists (select 1 from operational_emails m where m.event_id = e.id)
        order by e.created_at limit ${BATCH}
      ), claimed as (
        insert into operational_emails (event_id) select id from pending on conflict do nothing returning event_id
      )
      select e.id, e.org_id, e.type, e.data, o.name as org_name, o.slug as org_slug
      from claimed c join webhook_events e on e.id = c.event_id join organizations o on o.id = e.org_id`),
  );
  const limiter = await getRateLimiter();
  for (const event of claimed) {
    if (!(await limiter.limit(`opmail:${event.org_id}`, OPERATIONAL_EMAILS_PER_ORG_HOUR, 3600)).success) continue;
    const recipients = rowsOf<{ email: string }>(
      await db.execute(sql`
        select u.email from memberships m join users u on u.id = m.user_id
        join webhook_events e on e.org_id = m.org_id
        where e.id = ${event.id} and m.role in ('owner', 'admin')`),
    );
    const info = OPERATIONAL_EVENT_INFO[event.type];
    const link = typeof event.data.link === "string" ? `${appUrl()}/${event.org_slug}/${event.data.link}` : `${appUrl()}/${event.org_slug}`;
    const subject = `[${event.org_name}] ${info.title(event.data)}`;
    const text = `${info.title(event.data)}\n\n${info.description}\n\nDetails: ${link}\n\nYou receive this as an owner or admin of ${event.org_name} on Smarfle. Endpoints can also subscribe to "${event.type}" to receive it as a signed webhook.`;
    await Promise.all(recipients.map((r) => sendEmail({ to: r.email, subject, text }).catch((err) => logError("operational email", err, { event: event.id }))));
  }
  return claimed.length;
}

/** The in-process schedule: every 15 s. */
export function startOperationalMailer(db: Db, everyMs = 15_000): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = emailOperationalEvents(db)
      .catch((err) => logError("operational email", err))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
