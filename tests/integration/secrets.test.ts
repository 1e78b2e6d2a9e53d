import { createCipheriv, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { connectors, inboundSources, webhookEndpoints } from "@/db/schema";
import { decrypt, encrypt, needsReencryption, resetEncryptionKeys } from "@/lib/crypto/encryption";
import { reencryptAll } from "@/lib/crypto/reencrypt";
import { resetEnvCache } from "@/lib/env";
import { signingSecrets } from "@/lib/webhooks/deliver";
import { newId } from "@/lib/ids";
import { withTestOrg } from "../helpers/fixture";

const t = withTestOrg();

const ORIGINAL = process.env.SMARFLE_ENCRYPTION_KEY!;

function useKeys(current: string, previous?: string) {
  process.env.SMARFLE_ENCRYPTION_KEY = current;
  if (previous) process.env.SMARFLE_ENCRYPTION_KEY_PREVIOUS = previous;
  else delete process.env.SMARFLE_ENCRYPTION_KEY_PREVIOUS;
  resetEnvCache();
  resetEncryptionKeys();
}

/** A ciphertext as the previous release wrote it. */
function legacyV1(plaintext: string, keyB64: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", Buffer.from(keyB64, "base64"), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

afterAll(async () => {
  useKeys(ORIGINAL);
});

describe("secrets:reencrypt", () => {
  it("rewrites v1 and previous-key ciphertexts under the current key, bound to their row, and then has nothing left to do", async () => {
    const oldKey = randomBytes(32).toString("base64");
    const newKey = randomBytes(32).toString("base64");
    useKeys(oldKey);
    const orgId = t.org.org.id;
    const endpointId = newId("we");
    const sourceId = newId("src");
    const connectorId = newId("con");
    // A database written by the previous release (v1), and one secret already v2 under the old key.
    await t.db.insert(webhookEndpoints).values({
      id: endpointId,
      orgId,
      url: "https://receiver.example/h",
      secretCiphertext: legacyV1("whsec_current", oldKey),
      previousSecretCiphertext: encrypt("whsec_previous", { orgId, column: "webhook_endpoints.secret" }),
      previousSecretExpiresAt: new Date(Date.now() + 3600_000),
    });
    await t.db.insert(inboundSources).values({
      id: sourceId,
      orgId,
      name: "Shop",
      kind: "shopify",
      secretCiphertext: legacyV1("shop-secret", oldKey),
      mapping: { target: "client", fields: { name: "n" } },
    });
    await t.db.insert(connectors).values({
      id: connectorId,
      orgId,
      name: "Pull",
      url: "https://api.example/x",
      headersCiphertext: legacyV1(JSON.stringify({ Authorization: "Bearer t" }), oldKey),
      intervalMinutes: 15,
      pagination: { type: "none" },
      mapping: { target: "client", fields: { name: "n" } },
    });

    // The key changes: the old one stays readable as the previous key.
    useKeys(newKey, oldKey);
    const [endpoint] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId));
    expect(signingSecrets(endpoint!)).toEqual(["whsec_current", "whsec_previous"]);

    const first = await reencryptAll(t.db, { orgId });
    expect(first.reduce((n, r) => n + r.rewritten, 0)).toBe(4);
    expect((await reencryptAll(t.db, { orgId })).reduce((n, r) => n + r.rewritten, 0)).toBe(0);

    // Without the previous key, everything still decrypts: it is all under the new one now.
    useKeys(newKey);
    const [e] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId));
    const [s] = await t.db.select().from(inboundSources).where(eq(inboundSources.id, sourceId));
    const [c] = await t.db.select().from(connectors).where(eq(connectors.id, connectorId));
    for (const v of [e!.secretCiphertext, e!.previousSecretCiphertext!, s!.secretCiphertext, c!.headersCiphertext!]) expect(needsReencryption(v)).toBe(false);
    expect(decrypt(e!.secretCiphertext, { orgId, column: "webhook_endpoints.secret" })).toBe("whsec_current");
    expect(decrypt(s!.secretCiphertext, { orgId, column: "inbound_sources.secret" })).toBe("shop-secret");
    expect(JSON.parse(decrypt(c!.headersCiphertext!, { orgId, column: "connectors.headers" }))).toEqual({ Authorization: "Bearer t" });
    // Bound to the org: the same ciphertext copied to another org's row does not decrypt there.
    expect(() => decrypt(s!.secretCiphertext, { orgId: "org_other", column: "inbound_sources.secret" })).toThrow();
  });
});
