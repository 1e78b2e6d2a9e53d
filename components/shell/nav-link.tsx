"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

export function NavLink({ href, children, exact = false }: { href: string; children: React.ReactNode; exact?: boolean }) {
  const path = usePathname();
  const active = exact ? path === href : path === href || path.startsWith(`${href}/`);
  return (
    <Link
      href={href}
      className={`block rounded-md px-2.5 py-1.5 text-sm ${active ? "bg-white font-medium text-slate-900 ring-1 ring-slate-200" : "text-slate-600 hover:bg-white/60 hover:text-slate-900"}`}
    >
      {children}
    </Link>
  );
}
