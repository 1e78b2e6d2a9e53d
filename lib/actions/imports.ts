import "server-only";
import { z } from "zod";
import { confirmDraft, getImport, importView, previewDraft, startImport } from "@/lib/imports/imports";
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

export const startImportAction = defineOrgAction({
  name: "imports.start",
  role: "admin",
  input: z.object({ org: z.string(), id, mapping: z.string().max(100_000), leads: z.enum(["on"]).optional() }),
  async run(ctx, input) {
    const job = await confirmDraft(ctx.db, ctx.org.id, input.id, mappingFrom(input.mapping), { countsAsLeads: input.leads === "on" });
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
