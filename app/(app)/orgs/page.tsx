import Link from "next/link";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { listUserOrgs } from "@/lib/orgs/service";
import { requireUserId } from "@/lib/auth/session";
import { EmptyState } from "@/components/ui/layout";

export default async function OrgsPage() {
  const userId = await requireUserId("/orgs");
  const orgs = await listUserOrgs(await getDb(), userId);
  if (orgs.length === 1) redirect(`/${orgs[0]!.org.slug}`);
  return (
    <main className="mx-auto max-w-lg px-6 py-16">
      <h1 className="mb-6 text-xl font-semibold">Your organizations</h1>
      {orgs.length === 0 ? (
        <EmptyState title="You are not a member of any organization yet">Ask an owner to add you, or create an account with a new organization.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-lg bg-white ring-1 ring-slate-200">
          {orgs.map(({ org, role }) => (
            <li key={org.id}>
              <Link href={`/${org.slug}`} className="flex justify-between px-4 py-3 hover:bg-slate-50">
                <span className="font-medium">{org.name}</span>
                <span className="text-sm text-slate-500">{role}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
