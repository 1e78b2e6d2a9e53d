import "server-only";
import { z } from "zod";
import type { Organization, Role } from "@/db/schema";
import { getDb, type Db } from "@/db/client";
import { AppError, zodDetails, type ErrorCode, type ErrorDetail } from "@/lib/errors";
import { getMembership, hasRole } from "@/lib/orgs/service";
import type { Actor, ChangeContext } from "@/lib/audit/write";
import { newId } from "@/lib/ids";
import { logError } from "@/lib/log";

/**
 * One helper for every org-scoped server action: it resolves the caller's membership in the org
 * the action names, checks the role, validates the input with zod, and returns a typed result.
 * An action cannot be defined without a role, so none can forget the check.
 */

export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string; details: ErrorDetail[] } };

export interface OrgActionContext {
  db: Db;
  org: Organization;
  role: Role;
  userId: string;
  actor: Actor;
}

export interface OrgAction<I, T> {
  name: string;
  role: Role;
  invoke(userId: string | null | undefined, raw: unknown): Promise<ActionResult<T>>;
  /** For tests and composition: the input type this action validates. */
  readonly input: z.ZodType<I> | z.ZodType;
}

/** A change made through the settings UI, by the action's caller, in the action's org. */
export function uiChange(ctx: OrgActionContext): ChangeContext {
  return { orgId: ctx.org.id, actor: ctx.actor, source: "ui" };
}

const orgField = z.object({ org: z.string().min(1).max(100) });

export function defineOrgAction<S extends z.ZodType, T>(spec: {
  name: string;
  role: Role;
  input: S;
  run(ctx: OrgActionContext, input: z.infer<S>): Promise<T>;
}): OrgAction<z.infer<S>, T> {
  // A form field the action does not know is refused, as the API refuses unknown fields: an
  // object schema becomes strict unless it asked for other fields on purpose (looseObject).
  const input = spec.input instanceof z.ZodObject && spec.input._zod.def.catchall === undefined ? (spec.input.strict() as unknown as S) : spec.input;
  return {
    name: spec.name,
    role: spec.role,
    input: spec.input,
    async invoke(userId, raw) {
      try {
        if (!userId) throw new AppError("unauthorized", "Sign in to continue.");
        const orgParsed = orgField.safeParse(raw);
        if (!orgParsed.success) throw new AppError("validation_failed", "Missing organization.", zodDetails(orgParsed.error.issues));
        const db = await getDb();
        const membership = await getMembership(db, userId, orgParsed.data.org);
        // Not a member: answer as if the org did not exist, revealing nothing.
        if (!membership) throw new AppError("not_found", "Organization not found.");
        if (!hasRole(membership.role, spec.role)) {
          throw new AppError("forbidden", `This needs the ${spec.role} role; you are ${membership.role === "admin" ? "an" : "a"} ${membership.role}.`);
        }
        const parsed = input.safeParse(raw);
        if (!parsed.success) throw new AppError("validation_failed", "Please correct the highlighted fields.", zodDetails(parsed.error.issues));
        const data = await spec.run(
          { db, org: membership.org, role: membership.role, userId, actor: { type: "user", id: userId, label: membership.email } },
          parsed.data,
        );
        return { ok: true, data };
      } catch (err) {
        return { ok: false, error: toActionError(err, spec.name) };
      }
    },
  };
}

export function toActionError(err: unknown, context: string): { code: ErrorCode; message: string; details: ErrorDetail[] } {
  if (err instanceof AppError) return { code: err.code, message: err.message, details: err.details };
  const ref = newId("req");
  logError(`action ${context}`, err, { ref });
  return { code: "internal_error", message: `Something went wrong (${ref}). Please try again.`, details: [] };
}

/** FormData → plain object; Next's internal `$ACTION_*` fields are dropped. */
export function formDataToObject(fd: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of fd.entries()) {
    if (k.startsWith("$ACTION")) continue;
    if (typeof v !== "string") continue;
    if (k in out) {
      const prev = out[k];
      out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    } else out[k] = v;
  }
  return out;
}
