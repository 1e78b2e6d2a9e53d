import "server-only";
import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { apiUsageDaily, auditLog, clients, orgRecordCounters, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { createApiKey } from "@/lib/api-keys/keys";
import { LIFECYCLE_EVENTS } from "@/lib/events/names";
import { registry } from "@/lib/records/registry";
import { serializeRecord } from "@/lib/records/serialize";
import { generateSecret } from "@/lib/webhooks/signing";
import { eventBody } from "@/lib/webhooks/deliver";

/**
 * The demo organization's last 30 days, so every chart and list shows what it is for: two keys,
 * a webhook endpoint (paused: it points at no real receiver), leads from the website and ads with
 * their messages, API calls every day, and the deliveries of those changes. Written in a few
 * multi-row statements, so the first `npm run dev` stays quick.
 */
const DAYS = 30;
const DAY_MS = 86_400_000;
const CHANNELS = ["website form", "website form", "google ads", "meta lead ads", "referral"];
const FIRST = ["Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Avery", "Jamie", "Quinn", "Taylor", "Drew", "Robin"];
const LAST = ["Nguyen", "Okafor", "Schmidt", "Rossi", "Haddad", "Kowalski", "Silva", "Larsen", "Moreau", "Tanaka"];
const ASKS = [
  "Could you quote a weekly clean for a 3-bedroom house?",
  "We need an end-of-tenancy clean next Friday.\nKeys are with the agent.",
  "Office of 12 desks, twice a week — what would that cost?",
  "Carpet shampoo for two rooms and a hallway, please.",
  "Do you do window cleaning for a second-floor flat?",
  "Looking for a deep clean before we move in on the 1st.",
];

export async function seedDemoTraffic(db: Db, org: { id: string }, userId: string): Promise<void> {
  const admin = { orgId: org.id, actor: { type: "user" as const, id: userId, label: "Dana Demo" }, source: "system" as const };
  const { apiKey: formKey } = await createApiKey(db, admin, { name: "Website form", scopes: ["leads"], createdByUserId: userId });
  await createApiKey(db, admin, { name: "Zapier", scopes: ["read", "write"], createdByUserId: userId });

  const endpointId = newId("we");
  await db.insert(webhookEndpoints).values({
    id: endpointId,
    orgId: org.id,
    url: "https://hooks.example.com/sparkle-and-shine",
    description: "Zapier: job completed → review request",
    secretCiphertext: encrypt(generateSecret(), { orgId: org.id, column: "webhook_endpoints.secret" }),
    status: "disabled",
    disabledReason: "paused in the demo: point it at a receiver of yours and enable it",
  });

  // Leads through the lead capture door, spread over the month (more lately, as a growing
  // business). Written as the pipeline would, with their dates: the audit log is append-only,
  // so a lead cannot be back-dated after the fact.
  const n = 36;
  const now = Date.now();
  const def = registry.client;
  const rows = Array.from({ length: n }, (_, i) => {
    const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`;
    const at = new Date(now - Math.floor(DAYS * (1 - Math.sqrt((i + 1) / (n + 1)))) * DAY_MS - (i % 9) * 3_600_000);
    return {
      id: newId("cli"),
      orgId: org.id,
      name,
      email: `${name.toLowerCase().replace(" ", ".")}@example.com`,
      status: "lead" as const,
      source: CHANNELS[i % CHANNELS.length]!,
      customFields: { message: ASKS[i % ASKS.length]! },
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
  });
  await db.insert(clients).values(rows);
  await db
    .insert(orgRecordCounters)
    .values({ orgId: org.id, shard: 0, count: n })
    .onConflictDoUpdate({ target: [orgRecordCounters.orgId, orgRecordCounters.shard], set: { count: sql`${orgRecordCounters.count} + ${n}` } });
  const records = rows.map((r) => ({ at: r.createdAt, data: serializeRecord(def, r) }));
  await db.insert(auditLog).values(
    records.map(({ at, data }) => ({
      id: newId("aud"),
      orgId: org.id,
      actorType: "api_key" as const,
      actorId: formKey.id,
      actorLabel: formKey.prefix,
      source: "lead_capture" as const,
      action: "client.created",
      targetType: "client",
      targetId: data.id,
      after: data,
      createdAt: at,
    })),
  );
  await db.insert(webhookEvents).values(
    records.flatMap(({ at, data }) =>
      (["client_created", "record.created"] as const).map((type) => ({
        id: newId("evt"),
        orgId: org.id,
        type,
        recordType: "client",
        recordId: data.id,
        data,
        createdAt: at,
      })),
    ),
  );

  // API calls every day.
  await db.insert(apiUsageDaily).values(
    Array.from({ length: DAYS }, (_, i) => ({
      orgId: org.id,
      day: new Date(now - i * DAY_MS).toISOString().slice(0, 10),
      calls: 40 + ((i * 37) % 90) + (i % 7 < 5 ? 60 : 0),
    })),
  );

  // The deliveries the endpoint made before it was paused: one per change, a few failed.
  const events = await db
    .select()
    .from(webhookEvents)
    .where(
      and(eq(webhookEvents.orgId, org.id), inArray(webhookEvents.type, [...LIFECYCLE_EVENTS]), gte(webhookEvents.createdAt, new Date(now - DAYS * DAY_MS))),
    );
  const deliveries = events.map((e, i) => ({ event: e, id: newId("dlv"), failed: i % 11 === 5 }));
  if (deliveries.length === 0) return;
  await db.insert(webhookDeliveries).values(
    deliveries.map((d) => ({
      id: d.id,
      orgId: org.id,
      eventId: d.event.id,
      endpointId,
      status: d.failed ? ("failed" as const) : ("succeeded" as const),
      attemptCount: d.failed ? 6 : 1,
      lastResponseStatus: d.failed ? 500 : 200,
      lastError: d.failed ? "receiver answered 500" : null,
      nextAttemptAt: d.event.createdAt,
      completedAt: d.event.createdAt,
      createdAt: d.event.createdAt,
      updatedAt: d.event.createdAt,
    })),
  );
  await db.insert(webhookAttempts).values(
    deliveries.map((d, i) => ({
      id: newId("att"),
      orgId: org.id,
      deliveryId: d.id,
      attemptNumber: 1,
      url: "https://hooks.example.com/sparkle-and-shine",
      requestHeaders: { "content-type": "application/json", "webhook-id": d.event.id, "x-smarfle-event": d.event.type },
      requestBody: eventBody(d.event),
      responseStatus: d.failed ? 500 : 200,
      responseHeaders: { "content-type": "application/json" },
      responseBody: d.failed ? '{"error":"upstream timeout"}' : '{"status":"success"}',
      durationMs: 90 + ((i * 53) % 300),
      createdAt: d.event.createdAt,
    })),
  );
}
