import "server-only";
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";
import { AppError } from "@/lib/errors";
import { env } from "@/lib/env";

/**
 * The network guard (against SSRF) for every outgoing URL: webhook endpoints, their OAuth token
 * URLs and connectors. At save time we resolve the host and refuse loopback, private,
 * link-local, reserved and metadata addresses; at send time the connection goes through
 * request-filtering-agent, which checks the address actually connected to (so a DNS answer that
 * changes after the save — rebinding — is caught too). SMARFLE_ALLOW_PRIVATE_URLS=1 switches both
 * off, for tests and local development.
 */

const allowPrivate = () => env().SMARFLE_ALLOW_PRIVATE_URLS;

/** Shown in development with the refusal of a private address. */
export const LOCAL_RECEIVER_HINT =
  " To test with a receiver on this machine, start Smarfle with SMARFLE_ALLOW_PRIVATE_URLS=1 (development only: it lets webhooks reach your network), or expose the receiver through a tunnel (ngrok, cloudflared or similar give it a public https URL) and use that URL.";

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === "unicast";
}

/** Validates an outgoing URL: http(s), no credentials, and (unless allowed) a public host. */
export async function assertSafeUrl(raw: string, field = "url"): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("validation_failed", "Invalid URL.", [{ path: field, message: "must be an absolute http(s) URL" }]);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AppError("validation_failed", "Invalid URL.", [{ path: field, message: "must use http or https" }]);
  }
  if (url.username || url.password) {
    throw new AppError("validation_failed", "Invalid URL.", [{ path: field, message: "must not contain a user name or password" }]);
  }
  if (allowPrivate()) return url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new AppError("validation_failed", "Invalid URL.", [{ path: field, message: `the host ${host} could not be resolved` }]);
    }
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    // A developer trying a receiver on their own machine needs the way forward, not only the refusal.
    const local = env().NODE_ENV !== "production" ? LOCAL_RECEIVER_HINT : "";
    throw new AppError("validation_failed", `This URL points at a private or reserved network address.${local}`, [
      { path: field, message: `must resolve to a public address (private, loopback, link-local and metadata addresses are refused)${local}` },
    ]);
  }
  return url;
}

type Agents = { http: RequestFilteringHttpAgent; https: RequestFilteringHttpsAgent };
const holder = globalThis as unknown as { __smarfleAgents?: Agents; __smarfleAgentsPrivate?: boolean };

/**
 * Keep-alive agents that refuse private addresses at connect time (unless allowed). As many idle
 * sockets are kept per host as may be open to it: one receiver host often serves many endpoints
 * (hooks.zapier.com, a customer's own server), and with fewer, each burst to it ended by closing
 * sockets that the next burst opened again (the delivery benchmark: ~15 % of its rate).
 */
export function outboundAgent(url: URL) {
  const allow = allowPrivate();
  if (!holder.__smarfleAgents || holder.__smarfleAgentsPrivate !== allow) {
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 256, timeout: 30_000, allowPrivateIPAddress: allow };
    holder.__smarfleAgents = { http: new RequestFilteringHttpAgent(options), https: new RequestFilteringHttpsAgent(options) };
    holder.__smarfleAgentsPrivate = allow;
  }
  return url.protocol === "https:" ? holder.__smarfleAgents.https : holder.__smarfleAgents.http;
}
