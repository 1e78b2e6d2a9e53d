import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { parse } from "csv-parse/sync";
import { auditLog, clients, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as imports from "@/app/api/v1/imports/route";
import * as importOne from "@/app/api/v1/imports/[id]/route";
import * as importErrors from "@/app/api/v1/imports/[id]/errors.csv/route";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";
import { previewFile } from "@/lib/imports/imports";
import { createTestOrg, dropTestOrgs, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";
import { waitFor } from "../helpers/receiver";
import { invalidRows, writeCsv, writeXlsx } from "../helpers/sheets";

// The full 100,000 rows against PostgreSQL (CI); fewer on the in-memory database.
const ROWS = Number(process.env.IMPORT_TEST_ROWS ?? (usingPostgres ? 100_000 : 5_000));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-import-"));
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

async function upload(key: string, file: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set("file", new Blob([fs.readFileSync(file)]), path.basename(file));
  const req = new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body: form, headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } });
  const res = await imports.POST(req, { params: Promise.resolve({}) });
  return { status: res.status, body: await res.json() };
}

const status = async (key: string, id: string) =>
  (
    await importOne.GET(new Request(`http://127.0.0.1/api/v1/imports/${id}`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }), {
      params: Promise.resolve({ id }),
    })
  ).json();

async function importAndCheck(format: "csv" | "xlsx") {
  const org = await createTestOrg(db, { plan: "business" });
  orgs.push(org);
  const key = (await makeKey(db, org, ["bulk"])).key;
  const endpointId = newId("we");
  await db.insert(webhookEndpoints).values({
    id: endpointId,
    orgId: org.org.id,
    url: "https://receiver.example/hook",
    eventTypes: ["client_created"],
    secretCiphertext: encrypt(generateSecret(), { orgId: org.org.id, column: "webhook_endpoints.secret" }),
  });
  const file = path.join(tmp, `clients-${format}.${format}`);
  if (format === "csv") await writeCsv(file, ROWS);
  else await writeXlsx(file, ROWS);

  const started = await upload(key, file, { type: "client" });
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ object: "import", status: "pending", filename: `clients-${format}.${format}` });
  const done = await waitFor(
    async () => {
      const s = await status(key, started.body.id);
      return s.status === "completed" || s.status === "failed" ? s : null;
    },
    { timeoutMs: 240_000, intervalMs: 500, what: "import" },
  );
  const bad = invalidRows(ROWS);
  expect(done).toMatchObject({ status: "completed", total: ROWS, processed: ROWS, created: ROWS - bad, updated: 0, failed: bad });

  const count = async (table: typeof clients | typeof auditLog | typeof webhookEvents | typeof webhookDeliveries, extra?: ReturnType<typeof eq>) => {
    const [r] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(table)
      .where(extra ? and(eq(table.orgId, org.org.id), extra) : eq(table.orgId, org.org.id));
    return r!.n;
  };
  expect(await count(clients)).toBe(ROWS - bad);
  expect(await count(auditLog, eq(auditLog.action, "client.created"))).toBe(ROWS - bad);
  expect(await count(webhookEvents, eq(webhookEvents.type, "client_created"))).toBe(ROWS - bad);
  expect(await count(webhookDeliveries, eq(webhookDeliveries.endpointId, endpointId))).toBe(ROWS - bad);
  const [sample] = await db
    .select()
    .from(clients)
    .where(and(eq(clients.orgId, org.org.id), eq(clients.externalId, "row-7")));
  expect(sample).toMatchObject({ name: "Client 7", email: "client7@import.test", company: "Company 7" });

  // The failed rows, downloadable with their line number and reason.
  const res = await importErrors.GET(
    new Request(`http://127.0.0.1/api/v1/imports/${started.body.id}/errors.csv`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
    {
      params: Promise.resolve({ id: started.body.id }),
    },
  );
  expect(res.headers.get("content-type")).toContain("text/csv");
  const rows = parse(await res.text(), { columns: true }) as { line: string; reason: string; Name: string; Email: string }[];
  expect(rows).toHaveLength(bad);
  expect(rows[0]).toMatchObject({ line: "51", Email: "not-an-email-49" }); // data row 49 is line 51 (header is line 1)
  expect(rows[0]!.reason).toBe("Row 51: the email address 'not-an-email-49' is not valid");
  expect(rows[1]).toMatchObject({ line: "101", Name: "" });
  expect(rows[1]!.reason).toBe("Row 101: Name is required, and this row has none");
  return { org, key };
}

describe(`file import (${ROWS.toLocaleString("en-US")} rows)`, () => {
  it("imports a CSV: exactly the valid rows, every invalid row reported, each record audited with its event", async () => {
    const { org, key } = await importAndCheck("csv");
    // Importing the same file again updates nothing and creates nothing: upserts by external id.
    const again = await upload(key, path.join(tmp, "clients-csv.csv"), {
      type: "client",
      mapping: JSON.stringify({ target: "client", external_id: "External ID", fields: { name: "Name", email: { from: "Email", transform: "lower" } } }),
    });
    const done = await waitFor(
      async () => {
        const s = await status(key, again.body.id);
        return s.status === "completed" ? s : null;
      },
      { timeoutMs: 240_000, intervalMs: 500, what: "second import" },
    );
    expect(done).toMatchObject({ created: 0, updated: 0, failed: invalidRows(ROWS) });
    void org;
  }, 600_000);

  it("imports an Excel workbook the same way", async () => {
    await importAndCheck("xlsx");
  }, 600_000);

  it("previews the first rows with each cell's validation error", async () => {
    const file = path.join(tmp, "preview.csv");
    await writeCsv(file, 60);
    const preview = await previewFile(file, "csv", "client");
    expect(preview.headers).toEqual(["Name", "Email", "Phone", "Company", "External ID"]);
    expect(preview.mapping).toMatchObject({ fields: { name: "Name", email: "Email", phone: "Phone", company: "Company" }, external_id: "External ID" });
    expect(preview.rows).toHaveLength(20);
    const small = await previewFile(file, "csv", "client", undefined, 60);
    expect(small.rows[49]!.errors).toEqual([{ path: "email", message: "the email address 'not-an-email-49' is not valid" }]);
    expect(small.rows[48]!.errors).toEqual([]);
  });

  it("refuses uploads that cannot be imported", async () => {
    const org = await createTestOrg(db);
    orgs.push(org);
    const key = (await makeKey(db, org, ["bulk"])).key;
    const txt = path.join(tmp, "notes.pdf");
    fs.writeFileSync(txt, "hello");
    expect((await upload(key, txt, { type: "client" })).status).toBe(415);
    const csv = path.join(tmp, "ok.csv");
    fs.writeFileSync(csv, "Name\nA\n");
    expect((await upload(key, csv, { type: "unicorn" })).status).toBe(400);
    expect((await upload(key, csv, { type: "client", mapping: "{not json" })).status).toBe(400);
    const readKey = (await makeKey(db, org, ["read"])).key;
    expect((await upload(readKey, csv, { type: "client" })).status).toBe(403);
  });
});
