import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { eq, inArray } from "drizzle-orm";
import { connectorRuns, connectors, importErrors, imports, inboundDeliveries, inboundSources, notifications } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as importsRoute from "@/app/api/v1/imports/route";
import { newId } from "@/lib/ids";
import { afterWorkSettled } from "@/lib/http/after";
import { encrypt } from "@/lib/crypto/encryption";
import { enforceRetention } from "@/lib/audit/retention";
import { PENDING_UPLOAD_BYTES_PER_ORG, createImport, previewDraft } from "@/lib/imports/imports";
import { uploadsDir } from "@/lib/imports/files";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { makeKey, fromRandomIp } from "../helpers/api";
import { writeXlsxBomb } from "../helpers/hostile-files.mjs";

// Uploads of this file only: other test files upload at the same time, and a file of theirs still
// being written (or left by a test process that ended mid-upload) is not this file's to judge.
vi.hoisted(() => {
  process.env.UPLOADS_DIR = `${process.cwd()}/.data/imports-hygiene-${process.pid}`;
});

let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  fs.mkdirSync(uploadsDir(), { recursive: true });
});

afterAll(async () => {
  await afterWorkSettled();
  await dropTestOrgs(db, orgs);
  await handle.close();
  fs.rmSync(uploadsDir(), { recursive: true, force: true });
});

async function newOrg() {
  const org = await createTestOrg(db, { plan: "business" });
  orgs.push(org);
  return { org, key: (await makeKey(db, org, ["bulk"])).key };
}

async function upload(key: string, body: BodyInit, contentType?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...fromRandomIp() };
  if (contentType) headers["content-type"] = contentType;
  const res = await importsRoute.POST(new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body, headers }), { params: Promise.resolve({}) });
  return { status: res.status, body: await res.json() };
}

/** No temporary upload left behind once the requests have answered (the directory is this file's own). */
const noLeftovers = () => expect(fs.readdirSync(uploadsDir()).filter((n) => n.endsWith(".tmp"))).toEqual([]);

describe("upload files never outlive their request or their import", () => {
  it("every early exit of the upload route deletes its temporary file", async () => {
    const { key } = await newOrg();
    const form = (fields: Record<string, string>) => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.set(k, v);
      f.set("file", new Blob(["Name,Email\nAda,ada@example.com\n"]), "clients.csv");
      return f;
    };
    expect((await upload(key, form({ type: "client", mapping: "{not json" }))).status).toBe(400);
    expect((await upload(key, form({ type: "client", mapping: JSON.stringify({ target: "invoice", fields: {} }) }))).status).toBe(400);
    expect((await upload(key, form({ type: "unicorn" }))).status).toBe(400);
    // A multipart body cut off in the middle of the file.
    const cut = '--b\r\ncontent-disposition: form-data; name="file"; filename="a.csv"\r\ncontent-type: text/csv\r\n\r\nName\nAda\n';
    expect((await upload(key, cut, "multipart/form-data; boundary=b")).status).toBe(400);
    noLeftovers();
  });

  it("a client that hangs up mid-upload gets its request ended and its partial file deleted", async () => {
    const { key } = await newOrg();
    const enc = new TextEncoder();
    let chunks = 0;
    const body = new ReadableStream({
      pull(c) {
        chunks++;
        if (chunks === 1) c.enqueue(enc.encode('--b\r\ncontent-disposition: form-data; name="file"; filename="a.csv"\r\ncontent-type: text/csv\r\n\r\nName\n'));
        else if (chunks < 50) c.enqueue(enc.encode("Ada\n".repeat(1000)));
        else c.error(new Error("the client hung up"));
      },
    });
    const headers = { authorization: `Bearer ${key}`, "content-type": "multipart/form-data; boundary=b", ...fromRandomIp() };
    const req = new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body, headers, duplex: "half" } as RequestInit);
    const answered = await Promise.race([
      importsRoute.POST(req, { params: Promise.resolve({}) }).then((r) => r.status),
      new Promise((r) => setTimeout(() => r("still waiting after 5 s"), 5000)),
    ]);
    expect(answered).toBe(400);
    expect(chunks).toBe(50);
    noLeftovers();
  });

  it("caps the bytes of uploads an organization has waiting", async () => {
    const { org, key } = await newOrg();
    await db.insert(imports).values({
      id: newId("imp"),
      orgId: org.org.id,
      recordType: "client",
      filename: "big.csv",
      format: "csv",
      status: "draft",
      sizeBytes: PENDING_UPLOAD_BYTES_PER_ORG - 10,
    });
    const f = new FormData();
    f.set("type", "client");
    f.set("file", new Blob(["Name\nAda\nBob\n"]), "clients.csv");
    const res = await upload(key, f);
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/would exceed 300 MB/);
    expect(await db.select().from(imports).where(eq(imports.orgId, org.org.id))).toHaveLength(1);
    noLeftovers();
    // Another organization is not affected.
    const other = await newOrg();
    expect((await upload(other.key, f)).status).toBe(202);
  });

  it("counts concurrent uploads against the cap one at a time", async () => {
    const { org } = await newOrg();
    await db.insert(imports).values({
      id: newId("imp"),
      orgId: org.org.id,
      recordType: "client",
      filename: "big.csv",
      format: "csv",
      status: "draft",
      sizeBytes: PENDING_UPLOAD_BYTES_PER_ORG - 1_000,
    });
    // Five uploads of 600 bytes each at once: only one fits under the cap.
    const files = Array.from({ length: 5 }, (_, i) => {
      const p = path.join(uploadsDir(), `test-${newId("imp")}-${i}.tmp`);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, "Name\nAda\n");
      return p;
    });
    const results = await Promise.allSettled(
      files.map((p) => createImport(db, org.ctx, { uploadPath: p, size: 600, filename: "clients.csv", type: "client", draft: true })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(4).fill("payload_too_large"));
    expect(await db.select().from(imports).where(eq(imports.orgId, org.org.id))).toHaveLength(2);
    for (const p of files) expect(fs.existsSync(p)).toBe(false);
  });

  it("a draft whose file breaks a limit is failed and its file deleted at preview", async () => {
    const { org } = await newOrg();
    const tmp = path.join(uploadsDir(), `test-${newId("imp")}.tmp`);
    await writeXlsxBomb(tmp, 30 * 1024 * 1024);
    const job = await createImport(db, org.ctx, { uploadPath: tmp, size: fs.statSync(tmp).size, filename: "bomb.xlsx", type: "client", draft: true });
    await expect(previewDraft(db, org.org.id, job.id)).rejects.toMatchObject({ code: "import_file_rejected" });
    const [after] = await db.select().from(imports).where(eq(imports.id, job.id));
    expect(after).toMatchObject({ status: "failed", errorCode: "import_file_rejected" });
    expect(fs.existsSync(path.join(uploadsDir(), `${job.id}.xlsx`))).toBe(false);
  }, 60_000);
});

describe("retention covers notifications, connector runs, imports and delivery ids", () => {
  it("deletes what is past its time and keeps the rest", async () => {
    const { org } = await newOrg();
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
    const note = (d: number) => ({ id: newId("ntf"), orgId: org.org.id, userId: org.users.owner.id, kind: "lead", title: `${d} days`, createdAt: daysAgo(d) });
    const [oldNote, newNote] = [note(91), note(89)];
    await db.insert(notifications).values([oldNote, newNote]);

    const connectorId = newId("con");
    await db.insert(connectors).values({
      id: connectorId,
      orgId: org.org.id,
      name: "c",
      url: "https://example.test/",
      intervalMinutes: 60,
      pagination: { type: "none" },
      mapping: { target: "client", fields: {} },
    });
    const run = (d: number) => ({
      id: newId("run"),
      orgId: org.org.id,
      connectorId,
      status: "succeeded" as const,
      trigger: "schedule" as const,
      startedAt: daysAgo(d),
      finishedAt: daysAgo(d),
    });
    const [oldRun, newRun] = [run(31), run(29)];
    await db.insert(connectorRuns).values([oldRun, newRun]);

    const imp = (status: "completed" | "draft", createdAt: Date, finishedAt: Date | null) => ({
      id: newId("imp"),
      orgId: org.org.id,
      recordType: "client",
      filename: "x.csv",
      format: "csv" as const,
      status,
      createdAt,
      finishedAt,
    });
    const oldImport = imp("completed", daysAgo(40), daysAgo(31));
    const newImport = imp("completed", daysAgo(40), daysAgo(29));
    const oldDraft = imp("draft", daysAgo(25 / 24), null);
    const newDraft = imp("draft", daysAgo(23 / 24), null);
    await db.insert(imports).values([oldImport, newImport, oldDraft, newDraft]);
    await db.insert(importErrors).values({ importId: oldImport.id, line: 2, reason: "bad" });
    // The old draft's file, and an upload file no import owns, both written over an hour ago.
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    const draftFile = path.join(uploadsDir(), `${oldDraft.id}.csv`);
    const orphanFile = path.join(uploadsDir(), `upload-${newId("imp")}.tmp`);
    const liveFile = path.join(uploadsDir(), `${newDraft.id}.csv`);
    for (const f of [draftFile, orphanFile, liveFile]) {
      fs.writeFileSync(f, "Name\nAda\n");
      fs.utimesSync(f, hourAgo, hourAgo);
    }

    const sourceId = newId("src");
    await db.insert(inboundSources).values({
      id: sourceId,
      orgId: org.org.id,
      name: "s",
      kind: "hmac_sha256_hex",
      secretCiphertext: encrypt("secret", { orgId: org.org.id, column: "inbound_sources.secret" }),
      mapping: {},
    });
    await db.insert(inboundDeliveries).values([
      { sourceId, deliveryId: "old", createdAt: daysAgo(8) },
      { sourceId, deliveryId: "new", createdAt: daysAgo(6) },
    ]);

    await enforceRetention(db);

    const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
    expect(
      ids(
        await db
          .select({ id: notifications.id })
          .from(notifications)
          .where(inArray(notifications.id, [oldNote.id, newNote.id])),
      ),
    ).toEqual([newNote.id]);
    expect(ids(await db.select({ id: connectorRuns.id }).from(connectorRuns).where(eq(connectorRuns.connectorId, connectorId)))).toEqual([newRun.id]);
    expect(ids(await db.select({ id: imports.id }).from(imports).where(eq(imports.orgId, org.org.id)))).toEqual([newImport.id, newDraft.id].sort());
    expect(await db.select().from(importErrors).where(eq(importErrors.importId, oldImport.id))).toHaveLength(0);
    expect((await db.select().from(inboundDeliveries).where(eq(inboundDeliveries.sourceId, sourceId))).map((d) => d.deliveryId)).toEqual(["new"]);
    expect(fs.existsSync(draftFile)).toBe(false);
    expect(fs.existsSync(orphanFile)).toBe(false);
    expect(fs.existsSync(liveFile)).toBe(true);
    fs.rmSync(liveFile, { force: true });
  });
});
