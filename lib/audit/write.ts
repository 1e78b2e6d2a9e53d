import "server-only";
import { auditLog, type ActorType, type Source } from "@/db/schema";
import type { Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { insertRows } from "@/lib/db-utils";

/** Who made a change: a person, an API key, an inbound source, a connector, an import or the system. */
export interface Actor {
  type: ActorType;
  id: string | null;
  /** Human-readable: an email, a key prefix, a source name. */
  label?: string | null;
}

/** Who changes something in an organization, and through which door: what every settings change is audited with. */
export interface ChangeContext {
  orgId: string;
  actor: Actor;
  source: Source;
}

export interface AuditInput {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Writes audit rows inside the caller's transaction, so they commit or roll back with the change. */
export async function writeAudit(tx: Executor, orgId: string, actor: Actor, source: Source, entries: AuditInput[]): Promise<void> {
  if (entries.length === 0) return;
  const now = new Date();
  await insertRows(
    tx,
    auditLog,
    entries.map((e) => ({
      id: newId("aud"),
      orgId,
      actorType: actor.type,
      actorId: actor.id,
      actorLabel: actor.label ?? null,
      source,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      before: e.before ?? null,
      after: e.after ?? null,
      createdAt: now,
    })),
  );
}
