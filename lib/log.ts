import { createRequire } from "node:module";
import pino, { type Logger } from "pino";
import { env } from "@/lib/env";

/**
 * Structured logs: one JSON object per line on stdout (pino), with `level`, `time`, `msg` and
 * whatever the caller knows — `request_id`, `org_id`, `route`, `status`, `duration_ms`. In
 * development the same lines are pretty-printed. What must never be logged is kept out at the
 * source: bodies, keys, secrets and signatures are not passed to these functions, and the
 * `redact` list below blanks the usual field names should one slip through.
 */

const REDACT = [
  "password",
  "secret",
  "token",
  "key",
  "authorization",
  "signature",
  "body",
  "*.password",
  "*.secret",
  "*.token",
  "*.key",
  "*.authorization",
  "*.signature",
  "*.body",
  "headers.authorization",
  "headers.cookie",
  "headers['x-api-key']",
];

function prettyStream(): NodeJS.WritableStream | undefined {
  try {
    // A development dependency: absent from a production install, where JSON lines are wanted.
    const pretty = createRequire(import.meta.url)("pino-pretty") as (o: object) => NodeJS.WritableStream;
    return pretty({ colorize: true, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l" });
  } catch {
    return undefined;
  }
}

function createLogger(): Logger {
  let level = "info";
  let development = false;
  try {
    const e = env();
    level = e.LOG_LEVEL;
    development = e.NODE_ENV === "development";
  } catch {
    // A malformed environment is reported by whoever parses it first; log at the defaults.
  }
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: "[redacted]" },
  };
  const stream = development ? prettyStream() : undefined;
  return stream ? pino(options, stream) : pino(options);
}

// One logger per process, shared by every bundle of this module.
const holder = globalThis as unknown as { __smarfleLogger?: Logger };

export function logger(): Logger {
  return (holder.__smarfleLogger ??= createLogger());
}

/**
 * drizzle wraps database errors in a message that includes every bound parameter (password
 * hashes, encrypted secrets, personal data): we keep the driver's own message, its code and
 * the SQL text only.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (err.message.startsWith("Failed query:") && cause instanceof Error) {
    const sqlText = err.message.slice("Failed query:".length).split("\nparams:")[0]!.trim().slice(0, 300);
    const code = (cause as { code?: string }).code;
    return `${cause.name}${code ? ` ${code}` : ""}: ${cause.message} (query: ${sqlText})`;
  }
  return `${err.name}: ${err.message}${err.stack ? `\n${err.stack.split("\n").slice(1, 6).join("\n")}` : ""}`;
}

type Fields = Record<string, string | number | boolean | null | undefined>;

export function logError(context: string, err: unknown, fields: Fields = {}): void {
  const described = describeError(err);
  logger().error({ context, ...fields, err: described }, `${context}: ${described.split("\n")[0]!.slice(0, 300)}`);
}

export function logWarn(context: string, message: string, fields: Fields = {}): void {
  logger().warn({ context, ...fields }, message);
}

export function logInfo(context: string, message: string, fields: Fields = {}): void {
  logger().info({ context, ...fields }, message);
}

/** One line for an expected event (a refused sign-in, a lock-out): no stack, no secrets. */
export function logEvent(context: string, fields: Fields): void {
  logger().info({ context, ...fields }, String(fields.event ?? context));
}
