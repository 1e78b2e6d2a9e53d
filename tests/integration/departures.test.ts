import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys, memberships } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { createApiKey } from "@/lib/api-keys/keys";
import { createSource, revealSourceSecret, rotateSourceSecret } from "@/lib/inbound/sources";
import { createEndpoint, revealSecret, rotateEndpointSecret } from "@/lib/webhooks/endpoints";
import { listDepartures } from "@/lib/orgs/departures";
import { changeMemberRole, removeMember } from "@/lib/orgs/service";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { allowPrivateUrls } from "../helpers/env";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let undo: () => void;

beforeAll(async () => {
  undo = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db);
});

afterAll(async () => {
  undo();
  await dropTestOrgs(db, [org]);
  await handle.close();
});

describe("members who leave", () => {
  it("lists the keys a removed or demoted admin created and the secrets they saw, until each is revoked or rotated", async () => {
    const admin = org.users.admin;
    const asAdmin = { orgId: org.org.id, actor: { type: "user" as const, id: admin.id, label: admin.email }, source: "ui" as const };
    const asOwner = org.ctx;
    const { apiKey } = await createApiKey(db, asAdmin, { name: "admin's script", scopes: ["read"], createdByUserId: admin.id });
    const { apiKey: ownersKey } = await createApiKey(db, asOwner, { name: "owner's key", scopes: ["read"], createdByUserId: org.users.owner.id });
    const { endpoint } = await createEndpoint(db, asOwner, { url: "https://receiver.example/hook" });
    await revealSecret(db, asAdmin, endpoint.id);
    const { source } = await createSource(db, asAdmin, { name: "Shop", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } });
    const { source: untouched } = await createSource(db, asOwner, { name: "Owner's shop", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } });
    await revealSourceSecret(db, asOwner, untouched.id);

    // While they are an admin, nothing is listed.
    expect(await listDepartures(db, org.org.id)).toEqual([]);

    await changeMemberRole(db, asOwner, { userId: admin.id, role: "member" });
    const [d] = await listDepartures(db, org.org.id);
    expect(d).toMatchObject({ userId: admin.id, what: "demoted", label: admin.email });
    expect(d!.apiKeys.map((k) => k.id)).toEqual([apiKey.id]);
    expect(d!.webhookEndpoints.map((e) => e.id)).toEqual([endpoint.id]);
    expect(d!.inboundSources.map((s) => s.id)).toEqual([source.id]);
    expect(d!.apiKeys.map((k) => k.id)).not.toContain(ownersKey.id);

    // Each one-click fix takes its line away; removal is listed the same way.
    await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
    await rotateEndpointSecret(db, asOwner, endpoint.id, "none");
    const fresh = await rotateSourceSecret(db, asOwner, source.id);
    expect(await revealSourceSecret(db, asOwner, source.id)).toBe(fresh);
    await removeMember(db, asOwner, { userId: admin.id });
    expect(await listDepartures(db, org.org.id)).toEqual([]);
    expect(await db.select().from(memberships).where(eq(memberships.userId, admin.id))).toEqual([]);
  });
});
