/**
 * The 100,000-row import through the full pipeline (validation, audit row, outbox event and a
 * webhook delivery per record), CSV and Excel, on PostgreSQL: rows/s, the process's peak memory
 * and the parser process's (files are parsed in a child process of their own). Targets on this
 * 2-core machine: under 60 s per 100,000 rows, peak RSS under 400 MB. `MATCH_ON=email` (or
 * `phone`, `external_id`) looks every row up by that key first (`on_match: update`).
 *
 *   npm run bench:import      (ROWS=100000, MATCH_ON unset)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { openScratchDatabase, run } from "./scratch-db";
import { imports, webhookEndpoints } from "@/db/schema";
import { resetEnvCache } from "@/lib/env";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";
import { createOrganization } from "@/lib/orgs/service";
import { createImport } from "@/lib/imports/imports";
import { startImport } from "@/lib/imports/runner";
import { takeParserPeakRss } from "@/lib/imports/readers";
import type { MatchOn } from "@/lib/imports/match";
import { writeCsv, writeXlsx, invalidRows } from "../tests/helpers/sheets";

const ROWS = Number(process.env.ROWS ?? 100_000);
const MATCH_ON = process.env.MATCH_ON as MatchOn | undefined;

async function main() {
  process.env.SMARFLE_ENCRYPTION_KEY ??= Buffer.alloc(32, 9).toString("base64");
  resetEnvCache();
  const handle = await openScratchDatabase("imp", 5);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-bench-import-"));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  const rows: string[] = [];
  try {
    for (const format of ["csv", "xlsx"] as const) {
      const org = await createOrganization(handle.db, { name: `Import bench ${format}`, plan: "business" });
      await handle.db.insert(webhookEndpoints).values({
        id: newId("we"),
        orgId: org.id,
        url: "https://receiver.example/hook",
        eventTypes: ["client_created"],
        secretCiphertext: encrypt(generateSecret(), { orgId: org.id, column: "webhook_endpoints.secret" }),
      });
      const file = path.join(tmp, `clients.${format}`);
      if (format === "csv") await writeCsv(file, ROWS);
      else await writeXlsx(file, ROWS);
      const size = fs.statSync(file).size;
      const upload = path.join(tmp, `upload.${format}`);
      fs.copyFileSync(file, upload);
      peak = process.memoryUsage.rss();
      takeParserPeakRss();
      const started = performance.now();
      const job = await createImport(
        handle.db,
        { orgId: org.id, actor: { type: "system", id: null }, source: "system" },
        { uploadPath: upload, size, filename: `clients.${format}`, type: "client", match: MATCH_ON ? { on: MATCH_ON, policy: "update" } : null },
      );
      await startImport(handle.db, job.id);
      const seconds = (performance.now() - started) / 1000;
      const [done] = await handle.db.select().from(imports).where(eq(imports.id, job.id));
      rows.push(
        `${format.padEnd(6)} ${(size / 1024 / 1024).toFixed(1).padStart(6)} MB  ${ROWS.toLocaleString("en-US").padStart(8)}  ${seconds.toFixed(1).padStart(7)} s  ${Math.round(
          ROWS / seconds,
        )
          .toLocaleString("en-US")
          .padStart(
            7,
          )}  ${(peak / 1024 / 1024).toFixed(0).padStart(6)} MB  ${(takeParserPeakRss() / 1024 / 1024).toFixed(0).padStart(8)} MB   created ${done!.created}, failed ${done!.failed} (expected ${invalidRows(ROWS)})`,
      );
    }
    console.log(`\nImport through the full pipeline (audit + event + delivery per record), PostgreSQL${MATCH_ON ? `, matching on ${MATCH_ON}` : ""}\n`);
    console.log("format   file      rows     time    rows/s  peak RSS  parser RSS");
    console.log("------  ------  --------  -------  -------  --------  ----------");
    for (const r of rows) console.log(r);
    console.log("\ntargets: < 60 s per 100,000 rows; peak RSS < 400 MB");
  } finally {
    clearInterval(sampler);
    fs.rmSync(tmp, { recursive: true, force: true });
    await handle.drop();
  }
}

run(main);
