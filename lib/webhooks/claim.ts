import "server-only";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { WebhookEndpoint } from "@/db/schema";
import { rowsOf } from "@/lib/db-utils";
import { jobColumns, jobFromRow, type DeliveryJob } from "./deliver";
import { PROBE_LEASE_S, RESERVE_AHEAD_S } from "./controls";
import { ATTEMPT_TIMEOUT_MS } from "./schedule";
import { TOKEN_TIMEOUT_MS } from "./receiver-auth";

/**
 * Claiming deliveries: a claim is a lease (`locked_until`) taken with FOR UPDATE SKIP LOCKED, so
 * any number of workers (and the QStash route) share the due deliveries without taking one twice,
 * and the claim statement returns each delivery's job (its event and endpoint) in the same round trip.
 */

const pgArray = (ids: string[]) => `{${ids.join(",")}}`;
const CLAIMED_JOB = jobColumns({ delivery: "claimed", event: "ev", endpoint: "ep" });

/**
 * The end of a claim, after a CTE `picked (id, rate)`: leases the picked deliveries and reads
 * each one's job (the delivery as leased, its event, its endpoint) in the same statement.
 */
const leaseAndRead = (leaseSeconds: number) => sql`, claimed as (
      update webhook_deliveries w
         set locked_until = now() + make_interval(secs => ${leaseSeconds}),
             dispatched_at = coalesce(w.dispatched_at, now())
        from picked where w.id = picked.id
      returning w.*, picked.rate as claim_rate
    )
    select claimed.claim_rate as rate, ${CLAIMED_JOB}
      from claimed join webhook_events ev on ev.id = claimed.event_id join webhook_endpoints ep on ep.id = claimed.endpoint_id`;

export interface ClaimOptions {
  limit: number;
  perEndpoint: number;
  leaseSeconds: number;
  /** Endpoints not to claim for (at their in-flight cap, or slow when claiming for the healthy lane). */
  exclude?: string[];
  /**
   * Slow start: endpoints not in `proven` (no quick answer seen yet) get at most this many, so a
   * crowd of endpoints that turn out to hang cannot fill the lane before they are found out.
   */
  unprovenCap?: number;
  proven?: string[];
  /** Only these endpoints (the slow lane). */
  only?: string[];
  orgIds?: string[];
}

export interface Claimed {
  /** What the attempt needs (the delivery as claimed, its event, its endpoint), read by the claim itself. */
  job: DeliveryJob;
  /** Rate-limited endpoints only: when this delivery may be sent (ms since the epoch). */
  sendAt: number | null;
}

/**
 * Claims due deliveries, at most `perEndpoint` per endpoint, endpoints in random order so none
 * is favoured. An endpoint is skipped while its circuit is open or half open, while a receiver's
 * Retry-After pauses it, or while its rate slots are taken; with per-record ordering, only the
 * earliest pending delivery of each record is claimable. Rate-limited endpoints get send slots
 * reserved (`sendAt`), spaced 1/rate apart, about RESERVE_AHEAD_S ahead at most.
 */
export async function claimDue(db: Db, o: ClaimOptions): Promise<Claimed[]> {
  if (o.limit <= 0 || (o.orgIds && o.orgIds.length === 0) || (o.only && o.only.length === 0)) return [];
  const exclude = o.exclude?.length ? sql`and e.id <> all(${pgArray(o.exclude)}::text[])` : sql``;
  const only = o.only ? sql`and e.id = any(${pgArray(o.only)}::text[])` : sql``;
  const orgs = o.orgIds ? sql`and e.org_id = any(${pgArray(o.orgIds)}::text[])` : sql``;
  const cap =
    o.unprovenCap === undefined || o.unprovenCap >= o.perEndpoint
      ? sql`${o.perEndpoint}::int`
      : sql`case when e.id = any(${pgArray(o.proven ?? [])}::text[]) then ${o.perEndpoint}::int else ${o.unprovenCap}::int end`;
  const result = await db.execute(sql`
    with eligible as (
      select e.id, r.rate,
             least(${cap}, case when r.rate is null then ${o.perEndpoint}::int
                  else greatest(1, floor(r.rate * ${RESERVE_AHEAD_S})::int) end) as cap
      from webhook_endpoints e
      cross join lateral (select case when e.rate_limit is null then e.effective_rate
                                      when e.effective_rate is null then e.rate_limit::float8
                                      else least(e.rate_limit::float8, e.effective_rate) end as rate) r
      where (e.status = 'disabled' or (
              e.circuit_state = 'closed'
              and (e.paused_until is null or e.paused_until <= now())
              and (r.rate is null or e.rate_next_at is null or e.rate_next_at <= now() + interval '1 second')))
        ${exclude} ${only} ${orgs}
      order by random()
    ), picked as (
      select d.id, d.endpoint_id, e.rate from eligible e
      cross join lateral (
        select d.id, d.endpoint_id from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending' and d.next_attempt_at <= now()
          and (d.locked_until is null or d.locked_until < now())
          and (d.order_key is null or not exists (
            select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key and p.status = 'pending'
              and (p.order_seq, p.id) < (d.order_seq, d.id)))
        order by d.next_attempt_at
        limit e.cap
        for update of d skip locked
      ) d
      limit ${o.limit}
    )
    ${leaseAndRead(o.leaseSeconds)}`);
  const rows = rowsOf<{ rate: number | string | null } & Record<string, unknown>>(result);
  const endpoints = new Map<string, WebhookEndpoint>();
  const claimed: Claimed[] = rows.map((r) => ({ job: jobFromRow(r, endpoints), sendAt: null }));
  // Reserve send slots for rate-limited endpoints: one row update per endpoint, so concurrent
  // claimers (other instances, the QStash route) queue behind each other's slots.
  const limited = new Map<string, { rate: number; items: Claimed[] }>();
  rows.forEach((r, i) => {
    if (r.rate === null) return;
    const c = claimed[i]!;
    const endpointId = c.job.delivery.endpointId;
    const g = limited.get(endpointId) ?? { rate: Number(r.rate), items: [] };
    g.items.push(c);
    limited.set(endpointId, g);
  });
  for (const [endpointId, g] of limited) {
    const start = await reserveSlots(db, endpointId, g.items.length, g.rate);
    g.items.forEach((c, i) => (c.sendAt = start + (i * 1000) / g.rate));
  }
  return claimed;
}

/** Reserves `n` send slots 1/rate apart; returns the first slot's time (ms since the epoch). */
export async function reserveSlots(db: Db, endpointId: string, n: number, rate: number): Promise<number> {
  const result = await db.execute(sql`
    update webhook_endpoints
       set rate_next_at = greatest(coalesce(rate_next_at, now()), now()) + make_interval(secs => ${n / rate}::float8)
     where id = ${endpointId}
    returning (extract(epoch from rate_next_at) * 1000)::float8 as next_ms`);
  const row = rowsOf<{ next_ms: number | string }>(result)[0];
  return row ? Number(row.next_ms) - (n * 1000) / rate : Date.now();
}

/**
 * Endpoints whose circuit cool-down has run out: this worker takes the probe (open → half open,
 * leased for PROBE_LEASE_S) and claims the endpoint's earliest pending delivery, due or not — one
 * attempt decides whether the circuit closes.
 */
export async function claimProbes(db: Db, limit: number, leaseSeconds: number, orgIds?: string[]): Promise<Claimed[]> {
  if (limit <= 0 || (orgIds && orgIds.length === 0)) return [];
  const orgs = orgIds ? sql`and org_id = any(${pgArray(orgIds)}::text[])` : sql``;
  const result = await db.execute(sql`
    with probing as (
      update webhook_endpoints set circuit_state = 'half_open', circuit_until = now() + make_interval(secs => ${PROBE_LEASE_S})
       where id in (
         select id from webhook_endpoints
          where status = 'enabled' and circuit_state <> 'closed' and circuit_until <= now() ${orgs}
          limit ${limit}
          for update skip locked)
      returning id
    ), picked as (
      select d.id, null::float8 as rate from probing e
      cross join lateral (
        select d.id from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending' and (d.locked_until is null or d.locked_until < now())
          and (d.order_key is null or not exists (
            select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key and p.status = 'pending'
              and (p.order_seq, p.id) < (d.order_seq, d.id)))
        order by d.next_attempt_at
        limit 1
        for update of d skip locked
      ) d
    )
    ${leaseAndRead(leaseSeconds)}`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({ job: jobFromRow(r), sendAt: null }));
}

/**
 * The longest an attempt can hold its delivery: with OAuth, a token request and the POST, and
 * after a 401 a second token request and POST; plus the wait for a rate-limited endpoint's send
 * slot, and a margin for writing the attempt down. Another worker may claim it only after that.
 */
export const LEASE_SECONDS = Math.ceil((2 * (TOKEN_TIMEOUT_MS + ATTEMPT_TIMEOUT_MS)) / 1000) + RESERVE_AHEAD_S + 10;
