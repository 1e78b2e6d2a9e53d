import "server-only";
import { z } from "zod";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { createRecord, deleteRecord, updateRecord } from "@/lib/records/pipeline";
import { defineOrgAction, uiChange } from "@/lib/auth/action";
import { AppError, type ErrorDetail } from "@/lib/errors";
import { unknownFieldMessage } from "@/lib/unknown-fields";

const recordType = z.enum(RECORD_TYPES);
const recordId = z.string().min(1).max(64);

/**
 * Form fields arrive as `f.<field>` so they cannot collide with the action's own fields.
 * An empty optional input clears the field; the pipeline's schema decides what that means.
 */
function recordData(raw: Record<string, unknown>, type: keyof typeof registry): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const names = registry[type].fields.map((f) => f.name).concat("external_id");
  const unknown: ErrorDetail[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith("f.")) continue;
    const name = k.slice(2);
    if (names.includes(name)) data[name] = v;
    else unknown.push({ path: name, message: unknownFieldMessage(name, names) });
  }
  if (unknown.length) throw new AppError("validation_failed", "Please correct the highlighted fields.", unknown);
  return data;
}

const createInput = z.looseObject({ type: recordType });
const updateInput = z.looseObject({ type: recordType, id: recordId });
const deleteInput = z.object({ org: z.string(), type: recordType, id: recordId });

export const createRecordAction = defineOrgAction({
  name: "records.create",
  role: "member",
  input: createInput,
  run: (ctx, input) => createRecord(uiChange(ctx), input.type, recordData(input, input.type), { db: ctx.db }),
});

export const updateRecordAction = defineOrgAction({
  name: "records.update",
  role: "member",
  input: updateInput,
  run: (ctx, input) => updateRecord(uiChange(ctx), input.type, input.id, recordData(input, input.type), { db: ctx.db }),
});

export const deleteRecordAction = defineOrgAction({
  name: "records.delete",
  role: "member",
  input: deleteInput,
  run: (ctx, input) => deleteRecord(uiChange(ctx), input.type, input.id, { db: ctx.db }),
});
