import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { clients, imports as importsTable } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as importsRoute from "@/app/api/v1/imports/route";
import * as importOne from "@/app/api/v1/imports/[id]/route";
import * as importErrorsCsv from "@/app/api/v1/imports/[id]/errors.csv/route";
import { parse } from "csv-parse/sync";
import { newId } from "@/lib/ids";
import { isAppError } from "@/lib/errors";
import { IMPORT_LIMITS } from "@/lib/imports/readers";
import { previewFile } from "@/lib/imports/imports";
import { uploadsDir } from "@/lib/imports/files";
import { ERROR_CELL_MAX_CHARS, startImport } from "@/lib/imports/runner";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";
import { waitFor } from "../helpers/receiver";
import { writeAmplifiedXlsx, writeWideCsv, writeXlsxBomb } from "../helpers/hostile-files.mjs";
import { writeCsv } from "../helpers/sheets";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-import-limits-"));
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

async function newOrgKey() {
  const org = await createTestOrg(db, { plan: "business" });
  orgs.push(org);
  return { org, key: (await makeKey(db, org, ["bulk"])).key };
}

async function upload(key: string, file: string, fields: Record<string, string> = { type: "client" }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set("file", await fs.openAsBlob(file), path.basename(file));
  const req = new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body: form, headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } });
  const res = await importsRoute.POST(req, { params: Promise.resolve({}) });
  return { status: res.status, body: await res.json() };
}

const status = async (key: string, id: string) =>
  (
    await importOne.GET(new Request(`http://127.0.0.1/api/v1/imports/${id}`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }), {
      params: Promise.resolve({ id }),
    })
  ).json();

/** Uploads a file and waits for its import to end; answers the final status. */
async function importToEnd(file: string) {
  const { org, key } = await newOrgKey();
  const started = await upload(key, file);
  expect(started.status).toBe(202);
  const done = await waitFor(
    async () => {
      const s = await status(key, started.body.id);
      return s.status === "completed" || s.status === "failed" ? s : null;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "import to end" },
  );
  const [written] = await db.select({ id: clients.id }).from(clients).where(eq(clients.orgId, org.org.id)).limit(1);
  return { done, written, org, key };
}

describe("import files are bounded", () => {
  it("refuses an .xlsx whose parts decompress to more than 100 times its size, before parsing it", async () => {
    const file = path.join(tmp, "bomb.xlsx");
    await writeXlsxBomb(file, 120 * 1024 * 1024);
    const size = fs.statSync(file).size;
    expect(size).toBeLessThan(1024 * 1024); // ~120 MB of XML in well under a megabyte
    const { done, written } = await importToEnd(file);
    expect(done).toMatchObject({ status: "failed", error_code: "import_file_rejected", processed: 0 });
    expect(done.error).toMatch(/decompresses to more than .*100 times the file's size/);
    expect(written).toBeUndefined();
  }, 120_000);

  it("refuses a CSV with millions of empty columns per row, naming the column limit", async () => {
    const file = path.join(tmp, "wide.csv");
    await writeWideCsv(file, 2_000_000, 4);
    const { done, written } = await importToEnd(file);
    expect(done).toMatchObject({ status: "failed", error_code: "import_file_rejected" });
    expect(done.error).toMatch(/2,000,000 columns; the limit is 1,000 columns/);
    expect(written).toBeUndefined();
  }, 120_000);

  it("refuses a cell longer than Excel's 32,767 characters and a row longer than 1 MB", async () => {
    const longCell = path.join(tmp, "long-cell.csv");
    fs.writeFileSync(longCell, `Name,Notes\nAda,${"x".repeat(IMPORT_LIMITS.maxCellChars + 1)}\n`);
    const cell = await importToEnd(longCell);
    expect(cell.done).toMatchObject({ status: "failed", error_code: "import_file_rejected" });
    expect(cell.done.error).toMatch(/Line 2, column 2 has 32,768 characters; the limit is 32,767 characters per cell/);
    expect(cell.written).toBeUndefined();

    // 40 cells of 30,000 characters: every cell and the column count are within bounds, the row is not.
    const longRow = path.join(tmp, "long-row.csv");
    const cells = Array.from({ length: 40 }, (_, i) => `c${i}`);
    fs.writeFileSync(longRow, `Name,${cells.join(",")}\nAda,${cells.map(() => "y".repeat(30_000)).join(",")}\n`);
    const row = await importToEnd(longRow);
    expect(row.done).toMatchObject({ status: "failed", error_code: "import_file_rejected" });
    expect(row.done.error).toMatch(/longer than 1 MB, the limit for one row/);
  }, 120_000);

  it("refuses a hostile file in the preview too, with import_file_rejected", async () => {
    const file = path.join(tmp, "preview-bomb.xlsx");
    await writeXlsxBomb(file, 50 * 1024 * 1024);
    const err = await previewFile(file, "xlsx", "client").catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("import_file_rejected");
    expect(isAppError(err) && err.status).toBe(422);
  }, 60_000);

  it("fails an import interrupted twice instead of resuming it again", async () => {
    const { org, key } = await newOrgKey();
    const id = newId("imp");
    fs.mkdirSync(uploadsDir(), { recursive: true });
    const file = path.join(uploadsDir(), `${id}.csv`);
    await writeCsv(file, 10);
    // As the second interrupted run left it: running, two attempts started.
    await db.insert(importsTable).values({ id, orgId: org.org.id, recordType: "client", filename: "twice.csv", format: "csv", status: "running", attempts: 2 });
    await startImport(db, id);
    const s = await status(key, id);
    expect(s).toMatchObject({ status: "failed", error_code: "internal_error", processed: 0 });
    expect(s.error).toMatch(/interrupted 2 times/);
    expect(fs.existsSync(file)).toBe(false);

    // Interrupted once, it resumes and completes.
    const again = newId("imp");
    await writeCsv(path.join(uploadsDir(), `${again}.csv`), 10);
    await db
      .insert(importsTable)
      .values({ id: again, orgId: org.org.id, recordType: "client", filename: "once.csv", format: "csv", status: "running", attempts: 1 });
    await startImport(db, again);
    expect(await status(key, again)).toMatchObject({ status: "completed", processed: 10 });
  }, 60_000);

  it("runs one import per organization at a time; the next waits its turn", async () => {
    const { org, key } = await newOrgKey();
    // Another server is running an import for this organization.
    const other = newId("imp");
    await db
      .insert(importsTable)
      .values({ id: other, orgId: org.org.id, recordType: "client", filename: "elsewhere.csv", format: "csv", status: "running", attempts: 1 });
    const file = path.join(tmp, "waits.csv");
    await writeCsv(file, 20);
    const started = await upload(key, file);
    expect(started.status).toBe(202);
    const waiting = startImport(db, started.body.id);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status(key, started.body.id)).status).toBe("pending");
    // A second running import of the same organization is refused by the database itself.
    await expect(db.update(importsTable).set({ status: "running" }).where(eq(importsTable.id, started.body.id))).rejects.toThrow();

    // The other import ends: this one runs.
    await db.update(importsTable).set({ status: "completed" }).where(eq(importsTable.id, other));
    await startImport(db, started.body.id);
    await waiting;
    expect(await status(key, started.body.id)).toMatchObject({ status: "completed", processed: 20 });

    // Another organization was never held up by this one.
    const { key: otherKey } = await newOrgKey();
    const ok = await upload(otherKey, file);
    await startImport(db, ok.body.id);
    expect(await status(otherKey, ok.body.id)).toMatchObject({ status: "completed" });
  }, 60_000);

  it("errors.csv neutralizes spreadsheet formulas from the uploaded rows", async () => {
    const file = path.join(tmp, "formulas.csv");
    fs.writeFileSync(file, `Name,Email,=cmd|' /C calc'!A0\n"=HYPERLINK(""http://evil.test"",""x"")",not-an-email,+1\n@SUM(1),-2,\tx\n`);
    const { done, key } = await importToEnd(file);
    expect(done).toMatchObject({ status: "completed", failed: 2 });
    const res = await importErrorsCsv.GET(
      new Request(`http://127.0.0.1/api/v1/imports/${done.id}/errors.csv`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
      {
        params: Promise.resolve({ id: done.id }),
      },
    );
    const rows = parse(await res.text()) as string[][];
    expect(rows[0]).toEqual(["line", "reason", "Name", "Email", "'=cmd|' /C calc'!A0"]);
    expect(rows[1]!.slice(2)).toEqual([`'=HYPERLINK("http://evil.test","x")`, "not-an-email", "'+1"]);
    expect(rows[2]!.slice(2)).toEqual(["'@SUM(1)", "'-2", "'\tx"]);
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  }, 60_000);

  it("takes legal rows of nearly 1 MB each in bounded batches, and keeps failed rows cut short", async () => {
    // 33 KB of workbook, 120 rows of 30 cells sharing one 30,000-character string.
    const file = path.join(tmp, "amplified.xlsx");
    await writeAmplifiedXlsx(file, 120);
    const { done, key } = await importToEnd(file);
    // The names are far too long: every row fails validation and goes to the error file.
    expect(done).toMatchObject({ status: "completed", total: 120, failed: 120, created: 0 });
    const res = await importErrorsCsv.GET(
      new Request(`http://127.0.0.1/api/v1/imports/${done.id}/errors.csv`, { headers: { authorization: `Bearer ${key}`, ...fromRandomIp() } }),
      {
        params: Promise.resolve({ id: done.id }),
      },
    );
    const rows = parse(await res.text()) as string[][];
    expect(rows).toHaveLength(121);
    for (const cell of rows.slice(1).flatMap((r) => r.slice(2))) expect(cell.length).toBeLessThanOrEqual(ERROR_CELL_MAX_CHARS + 1);
  }, 120_000);
});
