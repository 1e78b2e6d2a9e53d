import "server-only";
import { z } from "zod";
import { INBOUND_KINDS } from "@/db/schema";
import { createSource, deleteSource, revealSourceSecret, rotateSourceSecret, updateSource } from "@/lib/inbound/sources";
import { reprocessRequest } from "@/lib/inbound/receive";
import { createConnector, deleteConnector, updateConnector } from "@/lib/connectors/connectors";
import { kickConnectorRuns, runConnectorNow } from "@/lib/connectors/run";
import { applyMapping, parseMapping } from "@/lib/mapping/mapping";
import { schemasFor, registry } from "@/lib/records/registry";
import { defineOrgAction, uiChange } from "@/lib/auth/action";
import { AppError } from "@/lib/errors";

const id = z.string().min(1).max(64);

function json(raw: string, path: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new AppError("validation_failed", `The ${path} is not valid JSON.`, [{ path, message: "invalid JSON" }]);
  }
}

export const createSourceAction = defineOrgAction({
  name: "inbound.create",
  role: "admin",
  input: z.object({
    org: z.string(),
    name: z.string().max(100),
    kind: z.enum(INBOUND_KINDS),
    mapping: z.string().max(50_000).optional(),
    secret: z.string().max(500).optional(),
  }),
  async run(ctx, input) {
    const { source, secret } = await createSource(ctx.db, uiChange(ctx), {
      name: input.name,
      kind: input.kind,
      ...(input.mapping ? { mapping: json(input.mapping, "mapping") } : {}),
      ...(input.secret ? { secret: input.secret } : {}),
    });
    return { id: source.id, secret };
  },
});

export const updateSourceAction = defineOrgAction({
  name: "inbound.update",
  role: "admin",
  input: z.object({ org: z.string(), id, mapping: z.string().max(50_000).optional(), enabled: z.enum(["true", "false"]).optional() }),
  async run(ctx, input) {
    const s = await updateSource(ctx.db, uiChange(ctx), input.id, {
      ...(input.mapping !== undefined ? { mapping: json(input.mapping, "mapping") } : {}),
      ...(input.enabled ? { enabled: input.enabled === "true" } : {}),
    });
    return { id: s.id };
  },
});

export const rotateSourceSecretAction = defineOrgAction({
  name: "inbound.rotate_secret",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: async (ctx, input) => ({ secret: await rotateSourceSecret(ctx.db, uiChange(ctx), input.id) }),
});

export const revealSourceSecretAction = defineOrgAction({
  name: "inbound.reveal_secret",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: async (ctx, input) => ({ secret: await revealSourceSecret(ctx.db, uiChange(ctx), input.id) }),
});

export const deleteSourceAction = defineOrgAction({
  name: "inbound.delete",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  async run(ctx, input) {
    await deleteSource(ctx.db, uiChange(ctx), input.id);
    return { id: input.id };
  },
});

export const reprocessInboundAction = defineOrgAction({
  name: "inbound.reprocess",
  role: "admin",
  input: z.object({ org: z.string(), requestId: id }),
  async run(ctx, input) {
    const r = await reprocessRequest(ctx.db, ctx.org.id, input.requestId);
    return { status: r.status, error: r.error };
  },
});

/** The mapping editor's live preview: a sample payload through the mapping and the record's validation. */
export const previewMappingAction = defineOrgAction({
  name: "mapping.preview",
  role: "admin",
  input: z.object({ org: z.string(), mapping: z.string().max(50_000), sample: z.string().max(200_000) }),
  async run(_ctx, input) {
    const mapping = parseMapping(json(input.mapping, "mapping"));
    const sample = json(input.sample, "sample");
    const items = Array.isArray(sample) ? sample.slice(0, 10) : [sample];
    return items.map((item) => {
      const m = applyMapping(mapping, item);
      const parsed = (m.externalId ? schemasFor(registry[mapping.target]).update : schemasFor(registry[mapping.target]).create).safeParse(m.data);
      return { data: m.data, errors: parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
    });
  },
});

const connectorForm = z.object({
  org: z.string(),
  name: z.string().max(100),
  url: z.string().max(2000),
  headerName: z.string().max(100).optional(),
  headerValue: z.string().max(4000).optional(),
  intervalMinutes: z.coerce.number().int(),
  recordsPath: z.string().max(200).optional(),
  pagination: z.string().max(2000),
  mapping: z.string().max(50_000),
});

export const createConnectorAction = defineOrgAction({
  name: "connectors.create",
  role: "admin",
  input: connectorForm,
  async run(ctx, input) {
    const c = await createConnector(ctx.db, uiChange(ctx), {
      name: input.name,
      url: input.url,
      headers: input.headerName && input.headerValue ? { [input.headerName]: input.headerValue } : {},
      interval_minutes: input.intervalMinutes,
      records_path: input.recordsPath || null,
      pagination: json(input.pagination, "pagination"),
      mapping: json(input.mapping, "mapping"),
    });
    return { id: c.id };
  },
});

export const updateConnectorAction = defineOrgAction({
  name: "connectors.update",
  role: "admin",
  input: z.object({ org: z.string(), id, enabled: z.enum(["true", "false"]) }),
  async run(ctx, input) {
    const c = await updateConnector(ctx.db, uiChange(ctx), input.id, { enabled: input.enabled === "true" });
    return { id: c.id, status: c.status };
  },
});

export const runConnectorAction = defineOrgAction({
  name: "connectors.run",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  async run(ctx, input) {
    const r = await runConnectorNow(ctx.db, ctx.org.id, input.id);
    kickConnectorRuns(ctx.db);
    return { id: r.id, status: r.status };
  },
});

export const deleteConnectorAction = defineOrgAction({
  name: "connectors.delete",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  async run(ctx, input) {
    await deleteConnector(ctx.db, uiChange(ctx), input.id);
    return { id: input.id };
  },
});
