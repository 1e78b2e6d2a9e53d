/**
 * Errors that mean "the database cannot be reached right now" rather than "this query is wrong":
 * the connection was refused, timed out or dropped, or the server is shutting down or starting
 * up. drizzle wraps a driver's error in its own (the driver's is the `cause`), so both are read.
 */
const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);
/** postgres.js's own codes for a connection it could not open or lost. */
const DRIVER_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED"]);
/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, starting up). */
const SQLSTATE = /^(08\d{3}|57P0[1-4])$/;

export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | null | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && (NODE_CODES.has(code) || DRIVER_CODES.has(code) || SQLSTATE.test(code))) return true;
    // An AggregateError (several addresses tried) carries its codes in `errors`.
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((x) => isDatabaseUnreachable(x))) return true;
  }
  return false;
}
