import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys, memberships } from "@/db/schema";
import { createApiKey } from "@/lib/api-keys/keys";
import { createSource, revealSourceSecret, rotateSourceSecret } from "@/lib/inbound/sources";
import { createEndpoint, revealSecret, rotateEndpointSecret } from "@/lib/webhooks/endpoints";
import { listDepartures } from "@/lib/orgs/departures";
import { changeMemberRole, removeMember } from "@/lib/orgs/service";
import { withTestOrg } from "../helpers/fixture";
import { allowPrivateUrls } from "../helpers/env";

const t = withTestOrg();

let undo: () => void;

beforeAll(async () => {
  undo = allowPrivateUrls();
});

afterAll(async () => {
  undo();
});

describe("members who leave", () => {
  it("lists the keys a removed or demoted admin created and the secrets they saw, until each is revoked or rotated", async () => {
    const admin = t.org.users.admin;
    const asAdmin = { orgId: t.org.org.id, actor: { type: "user" as const, id: admin.id, label: admin.email }, source: "ui" as const };
    const asOwner = t.org.ctx;
    const { apiKey } = await createApiKey(t.db, asAdmin, { name: "admin's script", scopes: ["read"], createdByUserId: admin.id });
    const { apiKey: ownersKey } = await createApiKey(t.db, asOwner, { name: "owner's key", scopes: ["read"], createdByUserId: t.org.users.owner.id });
    const { endpoint } = await createEndpoint(t.db, asOwner, { url: "https://receiver.example/hook" });
    await revealSecret(t.db, asAdmin, endpoint.id);
    const { source } = await createSource(t.db, asAdmin, { name: "Shop", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } });
    const { source: untouched } = await createSource(t.db, asOwner, {
      name: "Owner's shop",
      kind: "shopify",
      mapping: { target: "client", fields: { name: "n" } },
    });
    await revealSourceSecret(t.db, asOwner, untouched.id);

    // While they are an admin, nothing is listed.
    expect(await listDepartures(t.db, t.org.org.id)).toEqual([]);

    await changeMemberRole(t.db, asOwner, { userId: admin.id, role: "member" });
    const [d] = await listDepartures(t.db, t.org.org.id);
    expect(d).toMatchObject({ userId: admin.id, what: "demoted", label: admin.email });
    expect(d!.apiKeys.map((k) => k.id)).toEqual([apiKey.id]);
    expect(d!.webhookEndpoints.map((e) => e.id)).toEqual([endpoint.id]);
    expect(d!.inboundSources.map((s) => s.id)).toEqual([source.id]);
    expect(d!.apiKeys.map((k) => k.id)).not.toContain(ownersKey.id);

    // Each one-click fix takes its line away; removal is listed the same way.
    await t.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
    await rotateEndpointSecret(t.db, asOwner, endpoint.id, "none");
    const fresh = await rotateSourceSecret(t.db, asOwner, source.id);
    expect(await revealSourceSecret(t.db, asOwner, source.id)).toBe(fresh);
    await removeMember(t.db, asOwner, { userId: admin.id });
    expect(await listDepartures(t.db, t.org.org.id)).toEqual([]);
    expect(await t.db.select().from(memberships).where(eq(memberships.userId, admin.id))).toEqual([]);
  });
});
