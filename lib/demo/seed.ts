import "server-only";
import type { Db } from "@/db/client";
import { createMember } from "@/lib/orgs/invitations";
import { createOrganization, findOrg } from "@/lib/orgs/service";
import { writeRecords, type WriteContext } from "@/lib/records/pipeline";
import { createRule } from "@/lib/workflows/rules";
import { seedDemoTraffic } from "./traffic";

export const DEMO = {
  orgSlug: "demo",
  orgName: "Sparkle & Shine Cleaning",
  email: "demo@smarfle.dev",
  password: "smarfle-demo",
} as const;

/** Creates the demo organization, its owner, sample records and a month of traffic. Does nothing if it exists. */
export async function seedDemo(db: Db): Promise<{ created: boolean; org: { id: string; slug: string } }> {
  const existing = await findOrg(db, DEMO.orgSlug);
  if (existing) return { created: false, org: existing };

  const org = await createOrganization(db, { name: DEMO.orgName, plan: "pro", slug: DEMO.orgSlug });
  const ctx: WriteContext = { orgId: org.id, actor: { type: "system", id: null, label: "seed" }, source: "system" };
  const { user } = await createMember(db, ctx, { email: DEMO.email, password: DEMO.password, name: "Dana Demo", role: "owner" });

  const clients = await writeRecords(
    ctx,
    "client",
    [
      {
        name: "Harbor View Dental",
        email: "office@harborviewdental.example",
        phone: "+1 555 0101",
        company: "Harbor View Dental",
        status: "active",
        source: "referral",
      },
      { name: "Maya Lopez", email: "maya.lopez@example.com", phone: "+1 555 0102", status: "active", source: "website" },
      { name: "Grand Oak Apartments", email: "manager@grandoak.example", company: "Grand Oak Property Mgmt", status: "active", source: "cold call" },
      { name: "Priya Natarajan", email: "priya@example.com", phone: "+1 555 0104", status: "lead", source: "website form" },
      { name: "Tom Becker", email: "tom.becker@example.com", status: "lead", source: "google ads" },
      { name: "Blue Fern Café", email: "hello@bluefern.example", company: "Blue Fern Café", status: "inactive", source: "walk-in" },
    ].map((data) => ({ kind: "create" as const, data })),
    { db, atomic: true },
  );
  const ids = clients.map((r) => (r.ok ? r.record.id : ""));
  await writeRecords(
    ctx,
    "opportunity",
    [
      { title: "Weekly office cleaning contract", client_id: ids[0], value: 18400, currency: "USD", stage: "proposal" },
      { title: "Move-out deep clean", client_id: ids[3], value: 450, stage: "new" },
      { title: "Common areas, 3 buildings", client_id: ids[2], value: 32000, stage: "closed_won" },
    ].map((data) => ({ kind: "create" as const, data })),
    { db, atomic: true },
  );
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  const orders = await writeRecords(
    ctx,
    "work_order",
    [
      { title: "Deep clean, suite 200", client_id: ids[0], scheduled_at: new Date(now + 2 * day).toISOString(), status: "scheduled" },
      { title: "Carpet shampoo, units 4–9", client_id: ids[2], scheduled_at: new Date(now - 3 * day).toISOString(), status: "completed" },
      { title: "Window cleaning", client_id: ids[1], status: "open" },
    ].map((data) => ({ kind: "create" as const, data })),
    { db, atomic: true },
  );
  const completed = orders[1]!.ok ? orders[1]!.record.id : undefined;
  await writeRecords(
    ctx,
    "invoice",
    [
      {
        number: "INV-1001",
        client_id: ids[2],
        work_order_id: completed,
        amount: 1280,
        status: "paid",
        due_date: new Date(now - day).toISOString().slice(0, 10),
      },
      { number: "INV-1002", client_id: ids[0], amount: 1533.33, status: "sent", due_date: new Date(now + 14 * day).toISOString().slice(0, 10) },
      { number: "INV-1003", client_id: ids[1], amount: 180, status: "draft" },
    ].map((data) => ({ kind: "create" as const, data })),
    { db, atomic: true },
  );
  await writeRecords(
    ctx,
    "booking",
    [
      {
        service: "Standard home clean (2h)",
        client_id: ids[1],
        starts_at: new Date(now + day).toISOString(),
        ends_at: new Date(now + day + 2 * 3600_000).toISOString(),
      },
      { service: "Estimate visit", client_id: ids[4], starts_at: new Date(now + 3 * day).toISOString(), status: "pending" },
    ].map((data) => ({ kind: "create" as const, data })),
    { db, atomic: true },
  );
  // A workflow to show how rules read: a won deal makes its client active and tells the admins.
  await createRule(
    db,
    { orgId: org.id, actor: ctx.actor, source: "system" },
    {
      name: "Won deal activates client",
      enabled: true,
      record_type: "opportunity",
      trigger: "field_changed",
      trigger_field: "stage",
      conditions: [{ field: "stage", op: "changed_to", value: "closed_won" }],
      actions: [
        { type: "set_field", target: "client_id", field: "status", value: "active" },
        { type: "notify", audience: "admins", title: "Deal won: {{title}}" },
      ],
    },
    user.id,
  );
  await seedDemoTraffic(db, org, user.id);
  return { created: true, org };
}
