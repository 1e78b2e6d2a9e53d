"use client";

import { useSyncExternalStore } from "react";
import { KEY_PLACEHOLDER } from "@/lib/leads/snippets";
import { CopyButton } from "./copy-button";

/**
 * The key created last on this page, in memory only (never stored): every snippet fills it in
 * at once, so what is copied runs as it is. Forgotten on reload, like the key dialog itself.
 */
let fresh: { key: string; scopes: string[] } | null = null;
const listeners = new Set<() => void>();

export function rememberFreshKey(key: string, scopes: string[]): void {
  if (fresh?.key === key) return;
  fresh = { key, scopes };
  for (const l of listeners) l();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The fresh key when it carries `scope` (admin carries every scope), else null. */
export function useFreshKey(scope?: string): string | null {
  const k = useSyncExternalStore(
    subscribe,
    () => fresh,
    () => null,
  );
  if (!k) return null;
  return !scope || k.scopes.includes(scope) || k.scopes.includes("admin") ? k.key : null;
}

/**
 * A code block with a copy button. `sk_live_…` in `code` is replaced by `keyValue`, or by the
 * key just created on this page when it has `scope`.
 */
export function Snippet({ code, label, scope, keyValue }: { code: string; label: string; scope?: string; keyValue?: string | null }) {
  const freshKey = useFreshKey(scope);
  const key = keyValue ?? freshKey;
  const text = key ? code.replaceAll(KEY_PLACEHOLDER, key) : code;
  return (
    <div className="relative" data-testid="snippet">
      <pre className="overflow-x-auto rounded-md bg-slate-900 px-3 pt-9 pb-2 text-xs leading-relaxed text-slate-100">{text}</pre>
      <div className="absolute top-1.5 right-1.5">
        <CopyButton text={text} label="Copy" ariaLabel={`Copy ${label}`} />
      </div>
    </div>
  );
}
