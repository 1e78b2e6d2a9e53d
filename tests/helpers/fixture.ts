import { afterAll, beforeAll } from "vitest";
import type { Db, DbHandle, OpenOptions } from "@/db/client";
import type { PlanId } from "@/db/schema";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "./db";
import { makeKey } from "./api";

export interface TestOrgFixture {
  handle: DbHandle;
  db: Db;
  org: TestOrg;
  /** An API key of `org` with the fixture's scopes. */
  key: string;
  /** Another organization, dropped with the first when the file ends. */
  anotherOrg(options?: { plan?: PlanId }): Promise<TestOrg>;
}

/**
 * A test file's database, organization and API key in one call: opened and created before the
 * file's tests, dropped and closed after them. Read the fields inside tests and hooks (they are
 * filled in by the fixture's beforeAll).
 */
export function withTestOrg(options: { plan?: PlanId; scopes?: string[]; db?: OpenOptions } = {}): TestOrgFixture {
  const orgs: TestOrg[] = [];
  const fixture = {
    async anotherOrg(more: { plan?: PlanId } = {}) {
      const org = await createTestOrg(fixture.db, { plan: more.plan ?? options.plan ?? "business" });
      orgs.push(org);
      return org;
    },
  } as TestOrgFixture;
  beforeAll(async () => {
    fixture.handle = await useTestDb(options.db);
    fixture.db = fixture.handle.db;
    fixture.org = await fixture.anotherOrg();
    fixture.key = (await makeKey(fixture.db, fixture.org, options.scopes ?? ["admin"])).key;
  });
  afterAll(async () => {
    if (!fixture.handle) return;
    await dropTestOrgs(fixture.db, orgs);
    await fixture.handle.close();
  });
  return fixture;
}
