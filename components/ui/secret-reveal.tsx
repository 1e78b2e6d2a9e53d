"use client";

import { CopyButton } from "./copy-button";

/**
 * A secret shown once (a new API key, a webhook or inbound signing secret): monospace, scrollable
 * rather than wrapped, with a copy button. `fresh` marks one that will not be shown again.
 */
export function SecretReveal({ secret, testId, fresh = false, label = "secret" }: { secret: string; testId?: string; fresh?: boolean; label?: string }) {
  return (
    <div className="flex w-full items-center gap-2">
      <code
        data-testid={testId}
        className={`block flex-1 overflow-x-auto rounded px-2 py-1.5 font-mono text-xs whitespace-nowrap ${fresh ? "bg-white ring-1 ring-amber-200" : "bg-slate-100"}`}
      >
        {secret}
      </code>
      <CopyButton text={secret} ariaLabel={`Copy the ${label}`} />
    </div>
  );
}
