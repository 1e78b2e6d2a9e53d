import "server-only";
import { timingSafeEqual } from "node:crypto";
import ipaddr from "ipaddr.js";
import { env } from "@/lib/env";
import { logWarn } from "@/lib/log";

/**
 * The client's address: the one function every limiter, the request log and the audit log use.
 *
 * The TCP peer is only known to the Node server in front of Next.js (server.mjs): route handlers
 * get a Request without a socket. That server overwrites `x-smarfle-peer` on every request with
 * `<token> <peer address>`, where the token is drawn at start-up and kept on `globalThis` under
 * PEER_TOKEN_SYMBOL (the same process runs the app). A client may send the header; it cannot know
 * the token, and the server replaces its copy anyway.
 *
 * TRUST_PROXY_HOPS = 0: the peer; any X-Forwarded-For is ignored.
 * TRUST_PROXY_HOPS = N: the N-th address from the right of X-Forwarded-For, the one the outermost
 * of your own proxies appended. With fewer entries than that, the request did not come through
 * your proxies: the peer.
 */
export const PEER_HEADER = "x-smarfle-peer";
export const PEER_TOKEN_SYMBOL = Symbol.for("smarfle.peer-token");
export const UNKNOWN_ADDRESS = "unknown";
/** X-Forwarded-For longer than this is not read (an address list from a handful of proxies is short). */
const MAX_FORWARDED_LENGTH = 2048;

let warned = false;

function peerToken(): string | undefined {
  return (globalThis as unknown as Record<symbol, string | undefined>)[PEER_TOKEN_SYMBOL];
}

function normalize(raw: string | undefined): string | null {
  const v = raw?.trim();
  if (!v || v.length > 64) return null;
  if (!ipaddr.isValid(v)) return null;
  const parsed = ipaddr.parse(v);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address().toString();
  return parsed.toString();
}

/** The TCP peer as server.mjs saw it, or null when the request did not come through it. */
export function peerAddress(headers: Headers): string | null {
  const token = peerToken();
  const value = headers.get(PEER_HEADER);
  if (!token || !value) return null;
  const space = value.indexOf(" ");
  if (space < 0) return null;
  const presented = Buffer.from(value.slice(0, space));
  const expected = Buffer.from(token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
  return normalize(value.slice(space + 1));
}

export function clientAddress(req: { headers: Headers }): string {
  const hops = env().TRUST_PROXY_HOPS;
  if (hops > 0) {
    const forwarded = req.headers.get("x-forwarded-for");
    if (forwarded && forwarded.length <= MAX_FORWARDED_LENGTH) {
      const list = forwarded.split(",");
      if (list.length >= hops) {
        const chosen = normalize(list[list.length - hops]);
        if (chosen) return chosen;
      }
    }
  }
  const peer = peerAddress(req.headers);
  if (peer) return peer;
  if (!warned) {
    warned = true;
    logWarn(
      "client-address",
      "the client's address is unknown: start the app with `npm start` (server.mjs), not `next start`, so per-address limits apply per client",
    );
  }
  return UNKNOWN_ADDRESS;
}

/**
 * The unit a per-address rate limit counts: an IPv4 address, or an IPv6 address's /64 network —
 * one subscriber commonly holds a whole /64, so counting single IPv6 addresses would let a client
 * rotate through fresh buckets at will.
 */
export function addressBucket(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.parse(address);
  if (ip.kind() !== "ipv6") return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(":")}::/64`;
}
