// Route handlers called directly have no socket: this plays the part of server.mjs, which tells
// the app each request's TCP peer in a header carrying a per-process token.
import { randomBytes } from "node:crypto";

const TOKEN_SYMBOL = Symbol.for("smarfle.peer-token");
const holder = globalThis as unknown as Record<symbol, string | undefined>;
holder[TOKEN_SYMBOL] ??= randomBytes(24).toString("base64url");

/** The header server.mjs would set for a request from `ip`. */
export function peerHeader(ip: string): Record<string, string> {
  return { "x-smarfle-peer": `${holder[TOKEN_SYMBOL]} ${ip}` };
}
