"use client";

import { useRouter } from "next/navigation";

export function OrgSwitcher({ current, orgs }: { current: string; orgs: { slug: string; name: string }[] }) {
  const router = useRouter();
  return (
    <select
      aria-label="Organization"
      value={current}
      onChange={(e) => router.push(`/${e.target.value}`)}
      className="max-w-56 truncate rounded-md border-0 bg-slate-100 py-1 pr-8 pl-2 text-sm font-medium text-slate-800 ring-1 ring-slate-200 focus:ring-2 focus:ring-brand-500"
    >
      {orgs.map((o) => (
        <option key={o.slug} value={o.slug}>
          {o.name}
        </option>
      ))}
    </select>
  );
}
