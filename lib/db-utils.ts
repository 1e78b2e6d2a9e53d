import "server-only";
import { getTableColumns, getTableName, is, sql, SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Executor } from "@/db/client";
import { rowsOf } from "@/db/rows";

export { rowsOf };

type Column = ReturnType<typeof getTableColumns>[string];

/** Column types whose JavaScript values go into JSON as they are and come out as PostgreSQL reads them. */
const JSON_SAFE = new Set([
  "PgText",
  "PgInteger",
  "PgDoublePrecision",
  "PgReal",
  "PgSmallInt",
  "PgBigInt53",
  "PgBoolean",
  "PgTimestamp",
  "PgJsonb",
  "PgNumericNumber",
  "PgArray",
  "PgDateString",
]);

interface InsertPlan {
  text: [string, string];
  /** Columns whose default the rows' missing values take (a value or a function). */
  defaults: [string, Column][];
}

/** What insertRows needs to know of a table, worked out once. */
interface TableMeta {
  columns: [string, Column][];
  /** Columns whose default is SQL (defaultNow): written only when the rows carry them. */
  sqlDefaulted: string[];
}

const metas = new WeakMap<PgTable, TableMeta>();
const plans = new Map<string, InsertPlan>();

function tableMeta(table: PgTable): TableMeta {
  let meta = metas.get(table);
  if (!meta) {
    const columns = Object.entries(getTableColumns(table));
    meta = { columns, sqlDefaulted: columns.filter(([, c]) => c.hasDefault && !c.defaultFn && is(c.default, SQL)).map(([k]) => k) };
    metas.set(table, meta);
  }
  return meta;
}

function planInsert(table: PgTable, keys: string[], options: InsertOptions): InsertPlan {
  const cacheKey = JSON.stringify([getTableName(table), keys, options.upsert ?? null, options.returning ?? false]);
  let plan = plans.get(cacheKey);
  if (plan) return plan;
  const all = getTableColumns(table);
  const columns = keys.map((k) => {
    const col = all[k];
    if (!col) throw new Error(`insertRows: ${getTableName(table)} has no column ${k}`);
    if (!JSON_SAFE.has(col.columnType)) throw new Error(`insertRows: column type ${col.columnType} (${col.name}) is not supported`);
    return [k, col] as [string, Column];
  });
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  // The JSON objects keep the rows' own property names; the record definition maps them to columns.
  const defs = columns.map(([k, c]) => `${q(k)} ${c.getSQLType()}`).join(", ");
  let suffix = `) as r(${defs})`;
  if (options.upsert) {
    const set = options.upsert.set.map((k) => `${q(all[k]!.name)} = excluded.${q(all[k]!.name)}`).join(", ");
    suffix += ` on conflict (${q(all[options.upsert.target]!.name)}) do update set ${set}`;
    if (options.upsert.where) suffix += ` where ${options.upsert.where}`;
  }
  if (options.returning) suffix += " returning *";
  plan = {
    text: [
      `insert into ${q(getTableName(table))} (${columns.map(([, c]) => q(c.name)).join(", ")}) select ${columns.map(([k]) => `r.${q(k)}`).join(", ")} from jsonb_to_recordset(`,
      `::jsonb${suffix}`,
    ],
    defaults: columns.filter(([, c]) => c.defaultFn || (c.hasDefault && !is(c.default, SQL))),
  };
  plans.set(cacheKey, plan);
  return plan;
}

function withDefaults<T extends Record<string, unknown>>(row: T, defaults: [string, Column][]): T {
  let out = row;
  for (const [k, col] of defaults) {
    if (row[k] !== undefined) continue;
    if (out === row) out = { ...row };
    (out as Record<string, unknown>)[k] = col.defaultFn ? col.defaultFn() : col.default;
  }
  return out;
}

export interface InsertOptions {
  /** ON CONFLICT (target) DO UPDATE SET each of `set` from EXCLUDED [WHERE where]; keys are property names, `where` is SQL. */
  upsert?: { target: string; set: readonly string[]; where?: string };
  returning?: boolean;
}

/**
 * Multi-row INSERT of any size as one statement with one parameter: the rows travel as a JSON
 * array and PostgreSQL unpacks them with jsonb_to_recordset. The statement's text depends only
 * on the table and the columns, so it is prepared once per connection, and building it costs
 * nothing per row (query builders spend most of a bulk insert's time on per-value parameters).
 *
 * Every column the rows carry is written; an absent value is the column's default when that is a
 * value or a function, else NULL. A column whose default is SQL (defaultNow) is written only if
 * the rows carry it. With `returning`, the written rows come back as the table's objects.
 */
export async function insertRows<T extends Record<string, unknown>>(tx: Executor, table: PgTable, rows: T[], options: InsertOptions = {}): Promise<T[]> {
  if (rows.length === 0) return [];
  const meta = tableMeta(table);
  const first = rows[0]!;
  const omitted = meta.sqlDefaulted.filter((k) => first[k] === undefined);
  for (const k of omitted) if (rows.some((r) => r[k] !== undefined)) throw new Error(`insertRows: ${k} is missing in some rows`);
  const keys = meta.columns.map(([k]) => k).filter((k) => !omitted.includes(k));
  const plan = planInsert(table, keys, options);
  // Rows go out as they are (JSON.stringify writes a Date as ISO 8601 and leaves undefined out,
  // which reads as NULL); only a row missing a value with a default is copied to fill it in.
  const payload = plan.defaults.length === 0 ? rows : rows.map((row) => withDefaults(row, plan.defaults));
  const result = await tx.execute(sql`${sql.raw(plan.text[0])}${JSON.stringify(payload)}${sql.raw(plan.text[1])}`);
  if (!options.returning) return [];
  return rowsOf<Record<string, unknown>>(result).map((raw) => {
    const out: Record<string, unknown> = {};
    for (const [k, col] of meta.columns) {
      const v = raw[col.name];
      out[k] = v === null || v === undefined ? null : col.mapFromDriverValue(v);
    }
    return out as T;
  });
}

/** PostgreSQL's SQLSTATE of a failed query, whether the driver's error or drizzle's wrapper of it. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | null | undefined;
  return e?.code ?? e?.cause?.code;
}

/**
 * Runs `write` once more if it lost a race with an organization being deleted: a batch joined
 * with organizations can still hit a foreign-key violation, or a deadlock with the cascade. The
 * second run's join leaves that organization's rows out.
 */
export async function retryOnOrgDeletionRace<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const code = pgErrorCode(err);
    if (code !== "23503" && code !== "40P01") throw err;
    return write();
  }
}
