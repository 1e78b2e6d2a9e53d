import "server-only";
import { z } from "zod";
import { confirmDraft, getImport, importView, previewDraft } from "@/lib/imports/imports";
import { startImport } from "@/lib/imports/runner";
import { dryRunDraft } from "@/lib/imports/dry-run";
import { MATCH_ON, ON_MATCH, parseMatchOptions } from "@/lib/imports/match";
import { requestUndo } from "@/lib/imports/undo";
import { isRecordType } from "@/lib/records/registry";
import { uiChange } from "@/lib/auth/action";
import { defineOrgAction } from "@/lib/auth/action";
import { AppError } from "@/lib/errors";
import { runAfterResponse } from "@/lib/http/after";

const id = z.string().min(1).max(64);

function mappingFrom(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new AppError("validation_failed", "The mapping is not valid JSON.", [{ path: "mapping", message: "invalid JSON" }]);
  }
}

export const previewImportAction = defineOrgAction({
  name: "imports.preview",
  role: "admin",
  input: z.object({ org: z.string(), id, mapping: z.string().max(100_000) }),
  run: (ctx, input) => previewDraft(ctx.db, ctx.org.id, input.id, mappingFrom(input.mapping)),
});

/** The match key and policy chosen in the wizard (empty: none). */
const matchFields = { match_on: z.enum(MATCH_ON).or(z.literal("")).default(""), on_match: z.enum(ON_MATCH).or(z.literal("")).default("") };
async function matchOf(ctx: Parameters<typeof uiChange>[0], id: string, fields: { match_on: string; on_match: string }) {
  const job = await getImport(ctx.db, ctx.org.id, id);
  return isRecordType(job.recordType) ? parseMatchOptions(job.recordType, fields) : null;
}

export const dryRunImportAction = defineOrgAction({
  name: "imports.dry_run",
  role: "admin",
  input: z.object({ org: z.string(), id, mapping: z.string().max(100_000), leads: z.enum(["on"]).optional(), ...matchFields }),
  run: async (ctx, input) => dryRunDraft(ctx.db, ctx.org.id, input.id, mappingFrom(input.mapping), await matchOf(ctx, input.id, input)),
});

export const undoImportAction = defineOrgAction({
  name: "imports.undo",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: async (ctx, input) => importView(await requestUndo(ctx.db, uiChange(ctx), input.id)),
});

export const startImportAction = defineOrgAction({
  name: "imports.start",
  role: "admin",
  input: z.object({ org: z.string(), id, mapping: z.string().max(100_000), leads: z.enum(["on"]).optional(), ...matchFields }),
  async run(ctx, input) {
    const job = await confirmDraft(ctx.db, ctx.org.id, input.id, mappingFrom(input.mapping), await matchOf(ctx, input.id, input), {
      countsAsLeads: input.leads === "on",
    });
    runAfterResponse(() => startImport(ctx.db, job.id));
    return importView(job);
  },
});

export const importStatusAction = defineOrgAction({
  name: "imports.status",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: async (ctx, input) => importView(await getImport(ctx.db, ctx.org.id, input.id)),
});
