import { afterEach, describe, expect, it } from "vitest";
import { addressBucket, clientAddress } from "@/lib/http/client-address";
import { resetEnvCache } from "@/lib/env";
import { peerHeader } from "../helpers/peer";

const req = (headers: Record<string, string>) => new Request("http://127.0.0.1/", { headers });

afterEach(() => {
  delete process.env.TRUST_PROXY_HOPS;
  resetEnvCache();
});

describe("the client address", () => {
  it("is the TCP peer, whatever X-Forwarded-For the client sends, with no trusted proxies", () => {
    expect(clientAddress(req({ ...peerHeader("203.0.113.7"), "x-forwarded-for": "198.51.100.1" }))).toBe("203.0.113.7");
    expect(clientAddress(req({ ...peerHeader("::ffff:203.0.113.8") }))).toBe("203.0.113.8");
  });

  it("ignores a peer header without the server's token", () => {
    expect(clientAddress(req({ "x-smarfle-peer": "forged 198.51.100.9", "x-forwarded-for": "198.51.100.9" }))).toBe("unknown");
    expect(clientAddress(req({ "x-smarfle-peer": "198.51.100.9" }))).toBe("unknown");
  });

  it("takes the N-th address from the right of X-Forwarded-For with N trusted proxies", () => {
    process.env.TRUST_PROXY_HOPS = "1";
    resetEnvCache();
    const peer = peerHeader("10.0.0.2");
    expect(clientAddress(req({ ...peer, "x-forwarded-for": "1.1.1.1, 203.0.113.5" }))).toBe("203.0.113.5");
    process.env.TRUST_PROXY_HOPS = "2";
    resetEnvCache();
    expect(clientAddress(req({ ...peer, "x-forwarded-for": "forged, 203.0.113.5, 10.0.0.3" }))).toBe("203.0.113.5");
    // Fewer entries than proxies: the request did not come through them; the peer it is.
    expect(clientAddress(req({ ...peer, "x-forwarded-for": "203.0.113.5" }))).toBe("10.0.0.2");
    // Not an address: the peer, never the string as a bucket key.
    expect(clientAddress(req({ ...peer, "x-forwarded-for": "x".repeat(500) + ", 10.0.0.3" }))).toBe("10.0.0.2");
  });
});

describe("per-address rate-limit buckets", () => {
  it("count an IPv4 address alone and an IPv6 address by its /64", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:2:ffff:ffff:ffff:fffe")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:3::1")).not.toBe(addressBucket("2001:db8:1:2::1"));
    expect(addressBucket("unknown")).toBe("unknown");
  });
});
