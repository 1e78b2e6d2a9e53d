import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { CATALOG_EVENT_TYPES, eventCatalog } from "@/lib/webhooks/catalog";
import { RECORD_TYPES } from "@/lib/records/registry";
import * as list from "@/app/api/v1/records/[type]/route";
import * as one from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import * as me from "@/app/api/v1/me/route";
import { withTestOrg } from "../helpers/fixture";
import { call } from "../helpers/api";
import { expectConforms as conforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";

const t = withTestOrg({ plan: "business", scopes: ["admin"] });

let doc: OpenApiDoc;

beforeAll(async () => {
  doc = await loadDocument();
});

const expectConforms = (method: string, docPath: string, status: number, body: unknown) => conforms(doc, method, docPath, status, body);

describe("the OpenAPI document", () => {
  // That it documents every served route, and only those, is tests/integration/api-routes.test.ts.
  it("is OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it("describes what the handlers actually answer", async () => {
    const m = await call(me.GET, { key: t.key });
    expectConforms("get", "/api/v1/me", m.status, m.body);
    // The check has teeth: a body that strays from the document fails it.
    expect(() => expectConforms("get", "/api/v1/me", 200, { ...m.body, scopes: ["root"] })).toThrow();
    expect(() => expectConforms("get", "/api/v1/records/client/{id}", 200, { id: "cli_1", object: "client" })).toThrow();
    for (const type of RECORD_TYPES) {
      const base = `/api/v1/records/${type}`;
      const sample: Record<string, object> = {
        client: { name: "Doc client", email: "doc@example.com", custom_fields: { a: 1 } },
        opportunity: { title: "Doc deal", value: 10.5 },
        work_order: { title: "Doc job", scheduled_at: "2026-12-01T10:00:00Z" },
        invoice: { number: "DOC-1", amount: 99, due_date: "2026-12-31" },
        booking: { service: "Doc visit", starts_at: "2026-12-01T10:00:00Z" },
      };
      const created = await call(list.POST, { method: "POST", key: t.key, params: { type }, body: sample[type] });
      expectConforms("post", base, created.status, created.body);
      const id = created.body.id as string;
      const listed = await call(list.GET, { key: t.key, params: { type } });
      expectConforms("get", base, listed.status, listed.body);
      const got = await call(one.GET, { key: t.key, params: { type, id } });
      expectConforms("get", `${base}/{id}`, got.status, got.body);
      const patched = await call(one.PATCH, { method: "PATCH", key: t.key, params: { type, id }, body: { external_id: `doc-${type}` } });
      expectConforms("patch", `${base}/{id}`, patched.status, patched.body);
      const bulked = await call(bulk.POST, { method: "POST", key: t.key, params: { type }, body: { records: [sample[type], {}] } });
      expectConforms("post", `${base}/bulk`, bulked.status, bulked.body);
      const bad = await call(list.POST, { method: "POST", key: t.key, params: { type }, body: { nope: true } });
      expectConforms("post", base, bad.status, bad.body);
      const deleted = await call(one.DELETE, { method: "DELETE", key: t.key, params: { type, id } });
      expectConforms("delete", `${base}/{id}`, deleted.status, deleted.body);
      const gone = await call(one.GET, { key: t.key, params: { type, id } });
      expectConforms("get", `${base}/{id}`, gone.status, gone.body);
    }
  });
});

describe("the document's events, lead capture and inbound routes", () => {
  it("has a webhooks section with one entry per event type, each body schema the event's contract", () => {
    const webhooks = (doc as unknown as { webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: object }> } } }> }).webhooks;
    expect(Object.keys(webhooks)).toEqual([...CATALOG_EVENT_TYPES]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const { type, sample } of eventCatalog()) {
      const validate = ajv.compile({ ...webhooks[type]!.post.requestBody.content["application/json"]!.schema, components: doc.components });
      expect(validate(sample), `${type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it("documents POST /api/webhook/leads (JSON and form bodies, the key in a header, form field or query) and POST /api/inbound/{sourceId}", () => {
    const leads = (
      doc.paths["/api/webhook/leads"] as unknown as { post: { requestBody: { content: Record<string, unknown> }; parameters: { name: string; in: string }[] } }
    ).post;
    expect(Object.keys(leads.requestBody.content).sort()).toEqual(["application/json", "application/x-www-form-urlencoded"]);
    expect(JSON.stringify(leads.requestBody.content["application/x-www-form-urlencoded"])).toContain("api_key");
    expect(leads.parameters).toContainEqual(expect.objectContaining({ name: "key", in: "query" }));
    expect(doc.paths["/api/inbound/{sourceId}"]?.post).toBeDefined();
  });

  it("passes the Redocly linter's recommended rules with no errors, offline", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "openapi-"));
    const file = path.join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(doc));
    const cli = path.resolve("node_modules/@redocly/cli/bin/cli.js");
    const result = spawnSync(process.execPath, [cli, "lint", file, "--format=json"], {
      encoding: "utf8",
      timeout: 60_000,
      // No telemetry, no update check: the linter runs with the built-in rules and no network.
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_UPDATE_NOTIFIER: "1" },
    });
    await rm(dir, { recursive: true, force: true });
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))) as {
      totals: { errors: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    expect(report.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(report.totals.errors).toBe(0);
  }, 90_000);
});
