import "server-only";
import { notFound, redirect } from "next/navigation";
import { getDb } from "@/db/client";
import type { Role } from "@/db/schema";
import { AppError } from "@/lib/errors";
import { getMembership, hasRole, type MemberOfOrg, type MembershipView } from "@/lib/orgs/service";
import { auth } from "./next-auth";

/** The signed-in user's id, or a redirect to the sign-in page. For pages and layouts. */
export async function requireUserId(returnTo?: string): Promise<string> {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) redirect(returnTo ? `/sign-in?callbackUrl=${encodeURIComponent(returnTo)}` : "/sign-in");
  return id;
}

export async function currentUserId(): Promise<string | null> {
  return (await auth())?.user?.id ?? null;
}

/**
 * The caller's membership of the org in the URL. Not a member: 404, revealing nothing.
 * Below `role`: also 404 for pages (the page simply is not theirs).
 */
export async function requireMembership(orgSlug: string, role: Role = "member"): Promise<MembershipView & { userId: string; email: string | null }> {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) redirect(`/sign-in?callbackUrl=${encodeURIComponent(`/${orgSlug}`)}`);
  const membership = await getMembership(await getDb(), userId, orgSlug);
  if (!membership || !hasRole(membership.role, role)) notFound();
  return { ...membership, userId, email: session.user?.email ?? null };
}

/**
 * For route handlers of the app (uploads, downloads): the caller's membership with at least
 * `role`, or an AppError — unauthorized, or not_found for a non-member or a lesser role.
 */
export async function memberForRoute(orgSlug: string, role: Role): Promise<MemberOfOrg & { userId: string }> {
  const userId = await currentUserId();
  if (!userId) throw new AppError("unauthorized", "Sign in to continue.");
  const membership = await getMembership(await getDb(), userId, orgSlug);
  if (!membership || !hasRole(membership.role, role)) throw new AppError("not_found", "Organization not found.");
  return { ...membership, userId };
}
