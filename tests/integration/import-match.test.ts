import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, asc, eq, gt } from "drizzle-orm";
import { clients, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as imports from "@/app/api/v1/imports/route";
import * as importOne from "@/app/api/v1/imports/[id]/route";
import * as importUndo from "@/app/api/v1/imports/[id]/undo/route";
import { afterWorkSettled } from "@/lib/http/after";
import { updateRecord } from "@/lib/records/pipeline";
import { createTestOrg, dropTestOrgs, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";
import { waitFor } from "../helpers/receiver";

// The 10,000 rows against PostgreSQL; fewer on the in-memory database.
const ROWS = usingPostgres ? 10_000 : 2_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-match-"));
let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["bulk", "admin"])).key;
});

afterAll(async () => {
  await afterWorkSettled();
  await dropTestOrgs(db, [org]);
  await handle.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function writeCsv(name: string, rows: string[][]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, ["name,email,phone,company", ...rows.map((r) => r.join(","))].join("\n"));
  return file;
}

async function upload(file: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set("file", new Blob([fs.readFileSync(file)]), path.basename(file));
  const res = await imports.POST(
    new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body: form, headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
    { params: Promise.resolve({}) },
  );
  return { status: res.status, body: await res.json() };
}

const getImport = async (id: string) =>
  (
    await importOne.GET(new Request(`http://127.0.0.1/api/v1/imports/${id}`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }), {
      params: Promise.resolve({ id }),
    })
  ).json();
const finished = (id: string, status = "completed") =>
  waitFor(async () => ((await getImport(id)).status === status ? getImport(id) : null), { timeoutMs: 180_000, what: `import ${status}` });
const undo = async (id: string) => {
  const res = await importUndo.POST(
    new Request(`http://127.0.0.1/api/v1/imports/${id}/undo`, { method: "POST", headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
    { params: Promise.resolve({ id }) },
  );
  return { status: res.status, body: await res.json() };
};
/** Every client, column by column — but the version and update time, which an undo moves on. */
const snapshot = async () =>
  (await db.select().from(clients).where(eq(clients.orgId, org.org.id)).orderBy(asc(clients.id))).map((row) => {
    const columns: Partial<typeof row> = { ...row };
    delete columns.updatedAt;
    delete columns.version;
    return columns;
  });

const first = Array.from({ length: ROWS }, (_, i) => [`Person ${i}`, `person${i}@example.com`, `+1415555${String(i).padStart(4, "0")}`, `Company ${i}`]);
/** The same people: some emails in capitals, some companies changed, and a few rows invalid. */
const second = first.map(([name, email, phone, company], i) => {
  if (i % 1000 === 999) return [name!, "not-an-email", phone!, company!];
  return [name!, i % 500 === 0 ? ` ${email!.toUpperCase()}` : email!, phone!, i % 100 === 0 ? `${company} Ltd` : company!];
});

describe("imports that match", () => {
  it("the same file twice with match on email / update makes nothing new; the dry run predicts the real run; undo restores every column", async () => {
    const a = await upload(writeCsv("first.csv", first), { type: "client", match_on: "email", on_match: "update" });
    expect(a.status).toBe(202);
    expect(await finished(a.body.id)).toMatchObject({ created: ROWS, failed: 0, match_on: "email", on_match: "update" });

    const file = writeCsv("second.csv", second);
    const before = await snapshot();
    const preview = await upload(file, { type: "client", match_on: "email", on_match: "update", dry_run: "true" });
    expect(preview.status).toBe(200);
    const invalid = Math.floor(ROWS / 1000);
    const changed = first.filter((_, i) => i % 1000 !== 999 && (i % 100 === 0 || i % 500 === 0)).length;
    // An invalid email matches no one: the row would be a new client, and fails validation.
    expect(preview.body).toMatchObject({
      object: "import_preview",
      total: ROWS,
      new: 0,
      updates: changed,
      unchanged: ROWS - changed - invalid,
      skipped: 0,
      errors: invalid,
    });
    expect(preview.body.examples.updates[0]).toMatchObject({ line: 2, changes: { company: { from: "Company 0", to: "Company 0 Ltd" } } });
    expect(await snapshot()).toEqual(before); // the dry run wrote nothing

    const b = await upload(file, { type: "client", match_on: "email", on_match: "update" });
    const done = await finished(b.body.id);
    expect(done).toMatchObject({ created: 0, updated: preview.body.updates, failed: preview.body.errors, skipped: 0 });
    expect((await db.select().from(clients).where(eq(clients.orgId, org.org.id))).length).toBe(ROWS);

    const since = new Date();
    const u = await undo(b.body.id);
    expect(u.status).toBe(202);
    expect(u.body.status).toBe("undoing");
    await afterWorkSettled();
    const undone = await finished(b.body.id, "undone");
    expect(undone.undo).toMatchObject({ deleted: 0, restored: changed, not_restored: 0 });
    expect(await snapshot()).toEqual(before);
    const events = await db
      .select()
      .from(webhookEvents)
      .where(and(eq(webhookEvents.orgId, org.org.id), eq(webhookEvents.type, "client_updated"), gt(webhookEvents.createdAt, since)));
    expect(events).toHaveLength(changed);
    expect((await undo(b.body.id)).status).toBe(409);
  });

  it("skip leaves matches alone; undo deletes what an import created and reports what changed since", async () => {
    const rows = [
      ["Skip Me", "person1@example.com", "", "Changed Co"],
      ["New One", "new1@example.com", "", "N1"],
      ["New Two", "new2@example.com", "", "N2"],
    ];
    const file = writeCsv("skip.csv", rows);
    const preview = await upload(file, { type: "client", match_on: "email", on_match: "skip", dry_run: "true" });
    expect(preview.body).toMatchObject({ new: 2, skipped: 1, updates: 0, errors: 0 });
    const imp = await upload(file, { type: "client", match_on: "email", on_match: "skip" });
    const done = await finished(imp.body.id);
    expect(done).toMatchObject({ created: 2, skipped: 1, updated: 0 });
    const [person1] = await db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, org.org.id), eq(clients.email, "person1@example.com")));
    expect(person1!.company).not.toBe("Changed Co");

    const [two] = await db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, org.org.id), eq(clients.email, "new2@example.com")));
    await updateRecord(org.ctx, "client", two!.id, { company: "Edited by hand" });
    await undo(imp.body.id);
    await afterWorkSettled();
    const undone = await finished(imp.body.id, "undone");
    expect(undone.undo).toMatchObject({ deleted: 1, restored: 0, not_restored: 1, conflicts: [{ id: two!.id, reason: "changed since the import" }] });
    expect(
      await db
        .select()
        .from(clients)
        .where(and(eq(clients.orgId, org.org.id), eq(clients.email, "new1@example.com"))),
    ).toHaveLength(0);
    expect(
      await db
        .select()
        .from(clients)
        .where(and(eq(clients.orgId, org.org.id), eq(clients.email, "new2@example.com"))),
    ).toHaveLength(1);
  });

  it("refuses bad match options with the error envelope, writing nothing", async () => {
    const file = writeCsv("bad.csv", [["X", "x@example.com", "", ""]]);
    const bad = await upload(file, { type: "client", match_on: "name" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    const wrongType = await upload(file, { type: "invoice", match_on: "email" });
    expect(wrongType.status).toBe(400);
    const dry = await upload(file, { type: "client", dry_run: "maybe" });
    expect(dry.status).toBe(400);
    expect(
      await db
        .select()
        .from(clients)
        .where(and(eq(clients.orgId, org.org.id), eq(clients.email, "x@example.com"))),
    ).toHaveLength(0);
  });
});
