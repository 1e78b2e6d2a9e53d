import { describe, expect, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { auditLog, opportunities, webhookEndpoints, workOrders } from "@/db/schema";
import { insertRows } from "@/lib/db-utils";
import { newId } from "@/lib/ids";
import { withTestOrg } from "../helpers/fixture";

const t = withTestOrg();

// insertRows sends rows as one JSON parameter: every column type the schema uses must come back
// exactly as drizzle's own insert would store it.

describe("insertRows", () => {
  it("stores text, numbers, timestamps, JSON, arrays and defaults as drizzle reads them back", async () => {
    const at = new Date("2026-03-04T05:06:07.891Z");
    const tricky = "Ünïcødé — \"quotes\" 'single' \\ back\\slash\n新年 🎉 ' OR 1=1; --";
    const rows = [
      {
        id: newId("opp"),
        orgId: t.org.org.id,
        title: tricky,
        value: 1234.5,
        customFields: { nested: { a: [1, "two", null] }, empty: "" },
        createdAt: at,
        updatedAt: at,
      },
      { id: newId("opp"), orgId: t.org.org.id, title: "plain", value: null, customFields: {}, createdAt: at, updatedAt: at },
    ];
    const returned = await insertRows(t.db, opportunities, rows, { returning: true });
    const stored = await t.db
      .select()
      .from(opportunities)
      .where(
        inArray(
          opportunities.id,
          rows.map((r) => r.id),
        ),
      );
    for (const r of rows) {
      const s = stored.find((x) => x.id === r.id)!;
      expect(s).toMatchObject({ title: r.title, value: r.value, customFields: r.customFields, createdAt: at, updatedAt: at });
      // Column defaults apply to what the rows leave out: a value default and a nullable column.
      expect(s).toMatchObject({ currency: "USD", stage: "new", version: 1, externalId: null, clientId: null });
      expect(returned.find((x) => x.id === r.id)).toEqual(s);
    }

    const endpoint = {
      id: newId("we"),
      orgId: t.org.org.id,
      url: "https://example.test/hook",
      eventTypes: ["client_created", "a,b", 'quote"d', "{brace}"],
      secretCiphertext: "x",
      createdAt: at,
      updatedAt: at,
    };
    await insertRows(t.db, webhookEndpoints, [endpoint]);
    const [ep] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(ep).toMatchObject({
      eventTypes: endpoint.eventTypes,
      status: "enabled",
      description: null,
      previousSecretExpiresAt: null,
      effectiveRate: null,
      circuitState: "closed",
    });
    // A double precision column (an endpoint's back-off rate) round-trips through JSON exactly.
    const pacedId = newId("we");
    await insertRows(t.db, webhookEndpoints, [{ ...endpoint, id: pacedId, effectiveRate: 2.75 }]);
    const [paced] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, pacedId));
    expect(paced!.effectiveRate).toBe(2.75);
    await t.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, pacedId));

    const wo = { id: newId("wo"), orgId: t.org.org.id, title: "Visit", scheduledAt: new Date("2027-01-02T03:04:05.006Z"), createdAt: at, updatedAt: at };
    const [back] = await insertRows(t.db, workOrders, [wo], { returning: true });
    expect(back).toMatchObject({ scheduledAt: wo.scheduledAt, status: "open" });
    await t.db.delete(workOrders).where(eq(workOrders.id, wo.id));
    await t.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
  });

  it("lets the database fill a SQL default (now()) that the rows leave out", async () => {
    const before = Date.now();
    const id = newId("aud");
    await insertRows(t.db, auditLog, [{ id, orgId: t.org.org.id, actorType: "system", source: "system", action: "test.inserted", targetType: "test" }]);
    const [row] = await t.db.select().from(auditLog).where(eq(auditLog.id, id));
    expect(row!.createdAt.getTime()).toBeGreaterThanOrEqual(before - 5000);
    expect(row).toMatchObject({ before: null, after: null, actorId: null });
  });

  it("upserts: updates only the named columns, and only where the condition holds", async () => {
    const id = newId("opp");
    const at = new Date();
    await insertRows(t.db, opportunities, [{ id, orgId: t.org.org.id, title: "first", createdAt: at, updatedAt: at }]);
    const options = { upsert: { target: "id", set: ["title"], where: `"opportunities"."org_id" = excluded."org_id"` }, returning: true };
    const [updated] = await insertRows(
      t.db,
      opportunities,
      [{ id, orgId: t.org.org.id, title: "second", currency: "EUR", createdAt: at, updatedAt: at }],
      options,
    );
    expect(updated).toMatchObject({ title: "second", currency: "USD" });
    // Another org's row with the same id is not touched (and nothing comes back).
    const other = await insertRows(t.db, opportunities, [{ id, orgId: "org_other", title: "hijack", createdAt: at, updatedAt: at }], options);
    expect(other).toEqual([]);
    const [row] = await t.db.select().from(opportunities).where(eq(opportunities.id, id));
    expect(row!.title).toBe("second");
  });

  it("fails as a whole on a bad row, writing none of them", async () => {
    const at = new Date();
    const good = { id: newId("opp"), orgId: t.org.org.id, title: "good", createdAt: at, updatedAt: at };
    const bad = { id: newId("opp"), orgId: t.org.org.id, title: undefined, createdAt: at, updatedAt: at };
    await expect(insertRows(t.db, opportunities, [good, bad])).rejects.toMatchObject({ cause: { code: "23502" } });
    expect(await t.db.select().from(opportunities).where(eq(opportunities.id, good.id))).toEqual([]);
  });
});
