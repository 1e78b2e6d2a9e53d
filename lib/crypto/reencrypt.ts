import "server-only";
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { decrypt, encrypt, needsReencryption, type SecretColumn } from "./encryption";

/**
 * Every encrypted column, with the binding its ciphertexts carry. A new encrypted column is one
 * more entry here, so `smarfle secrets:reencrypt` covers it.
 */
export const ENCRYPTED_COLUMNS: ReadonlyArray<{ table: string; column: string; binding: SecretColumn }> = [
  { table: "webhook_endpoints", column: "secret_ciphertext", binding: "webhook_endpoints.secret" },
  { table: "webhook_endpoints", column: "previous_secret_ciphertext", binding: "webhook_endpoints.secret" },
  { table: "webhook_endpoints", column: "headers_ciphertext", binding: "webhook_endpoints.headers" },
  { table: "webhook_endpoints", column: "auth_ciphertext", binding: "webhook_endpoints.auth" },
  { table: "inbound_sources", column: "secret_ciphertext", binding: "inbound_sources.secret" },
  { table: "connectors", column: "headers_ciphertext", binding: "connectors.headers" },
];

const BATCH = 500;

export interface ReencryptReport {
  table: string;
  column: string;
  checked: number;
  rewritten: number;
}

/**
 * Rewrites every secret not yet in the current format under the current key (v1, or the previous
 * key). Row by row, each update conditional on the ciphertext being unchanged, so it can run
 * while the app serves traffic; run it again until it rewrites nothing.
 */
export async function reencryptAll(db: Executor, options: { orgId?: string } = {}): Promise<ReencryptReport[]> {
  const orgFilter = options.orgId ? sql`and org_id = ${options.orgId}` : sql``;
  const reports: ReencryptReport[] = [];
  for (const { table, column, binding } of ENCRYPTED_COLUMNS) {
    const report = { table, column, checked: 0, rewritten: 0 };
    let after = "";
    for (;;) {
      const rows = rowsOf<{ id: string; org_id: string; ciphertext: string }>(
        await db.execute(sql`
          select id, org_id, ${sql.identifier(column)} as ciphertext from ${sql.identifier(table)}
          where ${sql.identifier(column)} is not null and id > ${after} ${orgFilter}
          order by id limit ${BATCH}`),
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      for (const row of rows) {
        report.checked++;
        if (!needsReencryption(row.ciphertext)) continue;
        const bindingOf = { orgId: row.org_id, column: binding };
        const fresh = encrypt(decrypt(row.ciphertext, bindingOf), bindingOf);
        const updated = rowsOf(
          await db.execute(sql`
            update ${sql.identifier(table)} set ${sql.identifier(column)} = ${fresh}
            where id = ${row.id} and ${sql.identifier(column)} = ${row.ciphertext} returning id`),
        );
        report.rewritten += updated.length;
      }
    }
    reports.push(report);
  }
  return reports;
}
