import { z } from "zod";

/**
 * The only reader of process.env. Parsed once, on first use, so `next build` and the CLI
 * fail fast with a message naming the variable that is missing or malformed.
 */
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(
      z
        .string()
        .url()
        .refine((v) => protocols.some((p) => v.startsWith(p)), {
          message: `must start with ${protocols.join(" or ")}`,
        })
        .optional(),
    );

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

const schema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    DATABASE_URL: optionalUrl(["postgres://", "postgresql://"]),
    PGLITE_DATA_DIR: optionalString,
    /** Where uploaded import files wait for their import (up to 300 MB per organization). */
    UPLOADS_DIR: optionalString,
    REDIS_URL: optionalUrl(["redis://", "rediss://"]),
    UPSTASH_REDIS_REST_URL: optionalUrl(["https://", "http://"]),
    UPSTASH_REDIS_REST_TOKEN: optionalString,
    QSTASH_URL: optionalUrl(["https://", "http://"]),
    QSTASH_TOKEN: optionalString,
    QSTASH_CURRENT_SIGNING_KEY: optionalString,
    QSTASH_NEXT_SIGNING_KEY: optionalString,
    APP_URL: optionalUrl(["https://", "http://"]),
    AUTH_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters (try: openssl rand -base64 32)").optional()),
    SMARFLE_ENCRYPTION_KEY: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes in base64 (try: openssl rand -base64 32)")
        .optional(),
    ),
    /** The key that encrypted secrets before SMARFLE_ENCRYPTION_KEY: still decrypts during a key change. */
    SMARFLE_ENCRYPTION_KEY_PREVIOUS: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes in base64 (try: openssl rand -base64 32)")
        .optional(),
    ),
    /**
     * How many proxies of your own stand in front of the app. 0: the client address is the TCP
     * peer and X-Forwarded-For is ignored; N: the N-th address from the right of X-Forwarded-For.
     */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /** Outgoing mail, e.g. smtp://user:pass@mail.example:587 (smtps:// for TLS from the start). */
    SMTP_URL: optionalUrl(["smtp://", "smtps://"]),
    EMAIL_FROM: optionalString.pipe(z.string().max(200).optional()),
    /** `1` serves the benchmarks' baseline routes under /api/bench/*; they answer 404 otherwise. */
    SMARFLE_BENCH: z
      .enum(["0", "1", ""])
      .optional()
      .transform((v) => v === "1"),
    SMARFLE_ALLOW_PRIVATE_URLS: z
      .enum(["0", "1", ""])
      .optional()
      .transform((v) => v === "1"),
    WEBHOOK_RETRY_SCHEDULE: optionalString.pipe(
      z
        .string()
        .regex(/^\d+(\s*,\s*\d+)*$/, "must be comma-separated whole seconds, e.g. 0,60,300")
        .optional(),
    ),
    /** The Graph API base Meta Lead Ads leads are fetched from (a local stand-in in tests). */
    META_GRAPH_URL: z.string().trim().url("must be a URL such as https://graph.facebook.com/v21.0").default("https://graph.facebook.com/v21.0"),
    /** Seconds an endpoint may fail every delivery before it is disabled (default 5 days). */
    WEBHOOK_DISABLE_AFTER: z.coerce
      .number()
      .int()
      .min(1)
      .max(10 * 365 * 24 * 3600)
      .default(432_000),
    /** `0` turns the API request log off (the audit log of changes stays on). */
    SMARFLE_REQUEST_LOG: z
      .enum(["0", "1", ""])
      .optional()
      .transform((v) => v !== "0"),
    /**
     * Keep verified API keys in memory, trusted while the database's change notifications arrive
     * (LISTEN on a session of its own). Default: on, except in serverless mode (QSTASH_TOKEN), where
     * a frozen instance would hear of a revocation only after serving its next request. Set `0`
     * behind a transaction-pooling PgBouncer, which cannot carry LISTEN.
     */
    SMARFLE_KEY_CACHE: z.enum(["0", "1", ""]).optional(),
    /** A connector run's wall-clock budget; its lease is two minutes longer. */
    CONNECTOR_RUN_BUDGET_SECONDS: z.coerce.number().int("must be a whole number of seconds").min(1).max(3600).default(300),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    /** pino's level for the JSON log lines: one of fatal, error, warn, info, debug, trace, silent. */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Turns on GET /api/metrics (Prometheus text), readable with `Authorization: Bearer <token>`. */
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  })
  .superRefine((v, ctx) => {
    if (v.UPSTASH_REDIS_REST_URL && !v.UPSTASH_REDIS_REST_TOKEN) {
      ctx.addIssue({ code: "custom", path: ["UPSTASH_REDIS_REST_TOKEN"], message: "is required with UPSTASH_REDIS_REST_URL" });
    }
    if (v.QSTASH_TOKEN && !(v.QSTASH_CURRENT_SIGNING_KEY && v.QSTASH_NEXT_SIGNING_KEY)) {
      ctx.addIssue({
        code: "custom",
        path: ["QSTASH_CURRENT_SIGNING_KEY"],
        message: "QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY are required with QSTASH_TOKEN",
      });
    }
  });

export type Env = z.infer<typeof schema>;

let cached: Env | undefined;

export class EnvError extends Error {}

export function env(): Env {
  if (cached) return cached;
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(environment)"}: ${i.message}`);
    throw new EnvError(`Invalid environment configuration:\n${lines.join("\n")}`);
  }
  cached = parsed.data;
  return cached;
}

/**
 * Serverless mode (DESIGN.md "Runtime modes"): QStash delivers webhooks and runs the schedules,
 * and an instance may be frozen as soon as it has answered, so nothing may wait on a timer.
 */
export function serverless(): boolean {
  return Boolean(env().QSTASH_TOKEN);
}

/**
 * With NODE_ENV=production and a shared database, every server must use the same secrets: one
 * generated under .data/ by each server would disagree with the others (sessions, every encrypted
 * secret). Returns the first missing variable, or null.
 */
export function missingProductionSecret(e: Env = env()): "AUTH_SECRET" | "SMARFLE_ENCRYPTION_KEY" | null {
  if (e.NODE_ENV !== "production" || !e.DATABASE_URL) return null;
  if (!e.AUTH_SECRET) return "AUTH_SECRET";
  if (!e.SMARFLE_ENCRYPTION_KEY) return "SMARFLE_ENCRYPTION_KEY";
  return null;
}

/** The message `npm start` exits with when a production secret is missing. */
export function missingSecretMessage(name: string): string {
  return `${name} is required when NODE_ENV=production and DATABASE_URL is set (every server must share it; try: openssl rand -base64 32)`;
}

/** Tests and the CLI change the environment between runs; this drops the cached parse. */
export function resetEnvCache(): void {
  cached = undefined;
}
