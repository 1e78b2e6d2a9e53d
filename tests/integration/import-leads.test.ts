import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { notifications } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { confirmDraft, createImport, getImport } from "@/lib/imports/imports";
import { startImport } from "@/lib/imports/runner";
import { dashboardStats } from "@/lib/dashboard/stats";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-import-leads-"));
let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Six existing customers, exported with status "lead" by the old tool. */
async function importLeads(countsAsLeads: boolean) {
  const org = await createTestOrg(db, { plan: "business" });
  orgs.push(org);
  const file = path.join(tmp, `${org.org.id}.csv`);
  fs.writeFileSync(file, ["First Name,Last Name,E-mail,Status", ...Array.from({ length: 6 }, (_, i) => `Pat,Number ${i},pat${i}@example.com,lead`)].join("\n"));
  const ctx = { orgId: org.org.id, actor: org.ctx.actor, source: "ui" as const };
  const draft = await createImport(db, ctx, { uploadPath: file, size: fs.statSync(file).size, filename: "customers.csv", type: "client", draft: true });
  const mapping = { target: "client", fields: { name: { join: ["First Name", "Last Name"] }, email: "E-mail", status: "Status" } };
  await confirmDraft(db, org.org.id, draft.id, mapping, null, { countsAsLeads });
  await startImport(db, draft.id);
  expect(await getImport(db, org.org.id, draft.id)).toMatchObject({ status: "completed", created: 6, failed: 0 });
  const leadNotes = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "lead")));
  return { leadNotes, stats: await dashboardStats(db, org.org.id) };
}

describe("imported clients and the leads figures", () => {
  it("does not count or notify imported clients as leads unless the admin says they are", async () => {
    const quiet = await importLeads(false);
    expect(quiet.leadNotes).toHaveLength(0);
    expect(quiet.stats.totals.leads).toBe(0);

    const leads = await importLeads(true);
    expect(leads.leadNotes.length).toBeGreaterThan(0);
    expect(leads.leadNotes[0]!.title).toBe("6 new leads");
    expect(leads.stats.totals.leads).toBe(6);
  });
});
