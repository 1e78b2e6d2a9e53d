import { and, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";
import { clients } from "@/db/schema";
import type { Executor } from "@/db/client";

/**
 * Who a lead (or an import row) is: its email, trimmed and lower-cased, and its phone number in
 * E.164, read with the organization's default country when written without a `+` prefix. Two
 * captures with the same email or the same normalized phone are the same person.
 */

export const normalizeEmail = (email: unknown): string | null => (typeof email === "string" && email.trim() ? email.trim().toLowerCase() : null);

export function normalizePhone(phone: unknown, country: string | null): string | null {
  if (typeof phone !== "string" || !/\d/.test(phone)) return null;
  const parsed = parsePhoneNumberFromString(phone, (country ?? undefined) as CountryCode | undefined);
  if (parsed?.isPossible()) return parsed.number;
  // Without a country, a national number cannot be placed: its digits alone are the best key.
  const digits = phone.replace(/\D/g, "");
  return digits.length >= 7 ? digits : null;
}

/** The last digits of a number: the part every way of writing it shares (the indexed narrowing key). */
export const PHONE_TAIL_DIGITS = 7;
const phoneTail = (phone: string) => phone.replace(/\D/g, "").slice(-PHONE_TAIL_DIGITS);
const phoneTailSql = sql`right(regexp_replace(${clients.phone}, '[^0-9]', '', 'g'), 7)`;

export type ClientIdentity = Pick<typeof clients.$inferSelect, "id" | "email" | "phone">;

export interface IdentityQuery {
  /** Normalized emails. */
  emails: string[];
  /** Phone numbers as written: narrowed by their last digits, whatever their format. */
  phones: string[];
}

/**
 * The org's clients that may match any of the given emails or phones (at most `limit`), oldest
 * first so the first client a person became wins. Phones are only narrowed here (by their last
 * digits); `indexIdentities` confirms them by comparing normalized numbers.
 */
export async function candidateClients(db: Executor, orgId: string, wanted: IdentityQuery, limit = 1000): Promise<(typeof clients.$inferSelect)[]> {
  const conds: SQL[] = [];
  if (wanted.emails.length) conds.push(inArray(sql`lower(${clients.email})`, wanted.emails));
  const tails = [...new Set(wanted.phones.map(phoneTail).filter((t) => t.length === PHONE_TAIL_DIGITS))];
  if (tails.length) conds.push(inArray(phoneTailSql, tails));
  if (conds.length === 0) return [];
  return (
    db
      .select()
      .from(clients)
      // A provider's test lead is never someone a real lead returns to.
      .where(and(eq(clients.orgId, orgId), or(...conds), sql`(${clients.customFields}->>'is_test') is distinct from 'true'`))
      .orderBy(clients.createdAt, clients.id)
      .limit(limit)
  );
}

/** Indexes candidates by normalized email and phone (the first, i.e. oldest, wins). */
export function indexIdentities<C extends ClientIdentity>(candidates: C[], country: string | null) {
  const byEmail = new Map<string, C>();
  const byPhone = new Map<string, C>();
  for (const c of candidates) {
    const email = normalizeEmail(c.email);
    if (email && !byEmail.has(email)) byEmail.set(email, c);
    const phone = normalizePhone(c.phone, country);
    if (phone && !byPhone.has(phone)) byPhone.set(phone, c);
  }
  return {
    /** The client this email or phone belongs to: email first. */
    find(email: unknown, phone: unknown): C | null {
      const e = normalizeEmail(email);
      const p = normalizePhone(phone, country);
      return (e && byEmail.get(e)) || (p && byPhone.get(p)) || null;
    },
    byEmail,
    byPhone,
  };
}
