/**
 * Logging that never prints secrets. drizzle wraps database errors in a message that includes
 * every bound parameter (password hashes, encrypted secrets, personal data): we log the
 * driver's own message, its code and the SQL text only.
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

export function logError(context: string, err: unknown, fields: Record<string, string | number | undefined> = {}): void {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  console.error(`[${context}]${extra ? ` ${extra}` : ""} ${describeError(err)}`);
}

export function logWarn(context: string, message: string): void {
  console.warn(`[${context}] ${message}`);
}

/** One line for an expected event (a refused sign-in, a lock-out): no stack, no secrets. */
export function logEvent(context: string, fields: Record<string, string | number | boolean | null | undefined>): void {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
    .join(" ");
  console.info(`[${context}] ${extra}`);
}
