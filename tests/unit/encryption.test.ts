import { createCipheriv, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decrypt, encrypt, needsReencryption, resetEncryptionKeys } from "@/lib/crypto/encryption";
import { resetEnvCache } from "@/lib/env";

const ORIGINAL = process.env.SMARFLE_ENCRYPTION_KEY!;
const binding = { orgId: "org_a", column: "webhook_endpoints.secret" };

function useKeys(current: string, previous?: string) {
  process.env.SMARFLE_ENCRYPTION_KEY = current;
  if (previous) process.env.SMARFLE_ENCRYPTION_KEY_PREVIOUS = previous;
  else delete process.env.SMARFLE_ENCRYPTION_KEY_PREVIOUS;
  resetEnvCache();
  resetEncryptionKeys();
}

/** What the previous release wrote: v1, no key id, no additional data. */
function legacyV1(plaintext: string, keyB64: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(keyB64, "base64"), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

afterEach(() => useKeys(ORIGINAL));

describe("secrets at rest", () => {
  it("round-trips, carrying the key id", () => {
    const c = encrypt("whsec_abc", binding);
    expect(c.split(".")).toHaveLength(5);
    expect(c.startsWith("v2.")).toBe(true);
    expect(decrypt(c, binding)).toBe("whsec_abc");
    expect(needsReencryption(c)).toBe(false);
  });

  it("is bound to its organization and column", () => {
    const c = encrypt("whsec_abc", binding);
    expect(() => decrypt(c, { ...binding, orgId: "org_b" })).toThrow(/does not decrypt/);
    expect(() => decrypt(c, { ...binding, column: "inbound_sources.secret" })).toThrow(/does not decrypt/);
  });

  it("refuses a truncated tag", () => {
    const parts = encrypt("whsec_abc", binding).split(".");
    parts[3] = parts[3]!.slice(0, 6); // 4 bytes: GCM would accept it without a pinned length
    expect(() => decrypt(parts.join("."), binding)).toThrow();
  });

  it("still reads v1 ciphertexts, and the previous key during a key change", () => {
    const old = randomBytes(32).toString("base64");
    useKeys(old);
    const underOld = encrypt("s1", binding);
    const v1 = legacyV1("s0", old);
    expect(decrypt(v1, binding)).toBe("s0");

    const next = randomBytes(32).toString("base64");
    useKeys(next);
    expect(() => decrypt(underOld, binding)).toThrow(/unknown key/);
    useKeys(next, old);
    expect(decrypt(underOld, binding)).toBe("s1");
    expect(decrypt(v1, binding)).toBe("s0");
    expect(needsReencryption(underOld)).toBe(true);
    expect(needsReencryption(v1)).toBe(true);
    expect(needsReencryption(encrypt("s2", binding))).toBe(false);
  });
});
