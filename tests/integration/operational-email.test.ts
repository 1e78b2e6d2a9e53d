import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db, DbHandle } from "@/db/client";
import { emitOperationalEvent } from "@/lib/webhooks/operational";
import { emailOperationalEvents, OPERATIONAL_EMAILS_PER_ORG_HOUR } from "@/lib/webhooks/operational-email";
import { createTestOrg, dropTestOrgs, openTestDb, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { startSmtp } from "../helpers/smtp";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let smtp: Awaited<ReturnType<typeof startSmtp>>;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db);
  smtp = await startSmtp();
});

afterAll(async () => {
  await smtp.close();
  await dropTestOrgs(db, [org]);
  await handle.close();
});

const mailsTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));

describe(`operational events by email (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("emails each event once to the org's owners and admins, with a link, and never to members", async () => {
    const id = `imp_${Date.now()}`;
    await db.transaction((tx) =>
      emitOperationalEvent(tx, org.org.id, "import.completed", { id, file_name: "spring-clients.csv", created: 12, failed: 0, link: `settings/imports/${id}` }),
    );

    // Two servers' mailers at once (one connection pool each on PostgreSQL): one email per recipient.
    const other = usingPostgres ? await openTestDb() : handle;
    try {
      await Promise.all([emailOperationalEvents(db), emailOperationalEvents(other.db)]);
    } finally {
      if (other !== handle) await other.close();
    }
    // Other test files share the database: their older events may have filled those batches.
    while ((await emailOperationalEvents(db)) > 0);
    const owner = await smtp.waitFor(org.users.owner.email, /Import finished: spring-clients\.csv/);
    expect(owner.subject).toContain(org.org.name);
    expect(owner.link).toContain(`/${org.org.slug}/settings/imports/${id}`);
    await smtp.waitFor(org.users.admin.email, /Import finished/);

    await emailOperationalEvents(db);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(org.users.owner.email)).toHaveLength(1);
    expect(mailsTo(org.users.admin.email)).toHaveLength(1);
    expect(mailsTo(org.users.member.email)).toHaveLength(0);
  });

  it("sends an organization at most OPERATIONAL_EMAILS_PER_ORG_HOUR a hour, however many events it raises", async () => {
    const noisy = await createTestOrg(db);
    try {
      const n = OPERATIONAL_EMAILS_PER_ORG_HOUR + 5;
      await db.transaction(async (tx) => {
        for (let i = 0; i < n; i++)
          await emitOperationalEvent(tx, noisy.org.id, "delivery.exhausted", { id: `dlv_noisy_${i}`, event_type: "client_created", attempts: 6 });
      });
      while ((await emailOperationalEvents(db)) > 0);
      await new Promise((r) => setTimeout(r, 500));
      expect(mailsTo(noisy.users.owner.email)).toHaveLength(OPERATIONAL_EMAILS_PER_ORG_HOUR);
    } finally {
      await dropTestOrgs(db, [noisy]);
    }
  });

  it("sends nothing when email is not configured", async () => {
    const url = process.env.SMTP_URL;
    delete process.env.SMTP_URL;
    const { resetEnvCache } = await import("@/lib/env");
    resetEnvCache();
    try {
      await db.transaction((tx) =>
        emitOperationalEvent(tx, org.org.id, "connector.paused", { id: `con_${Date.now()}`, name: "Bookings", reason: "5 runs failed" }),
      );
      expect(await emailOperationalEvents(db)).toBe(0);
    } finally {
      process.env.SMTP_URL = url;
      resetEnvCache();
    }
  });
});
