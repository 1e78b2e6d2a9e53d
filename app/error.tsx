"use client";

import { Button, ButtonLink } from "@/components/ui/button";

/**
 * What a page shows when it could not be rendered — most often because the database is briefly
 * out of reach. The details stay in the server log (under the digest shown here).
 */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="mx-auto flex min-h-screen max-w-lg flex-col justify-center gap-4 px-6">
      <p className="text-sm font-semibold text-brand-600">Smarfle</p>
      <h1 className="text-2xl font-semibold text-slate-900">This page could not be loaded just now</h1>
      <p className="text-slate-600">
        Smarfle could not reach what it needs to show this page. Nothing you saved is lost: try again in a few seconds. If it keeps happening, tell your
        administrator
        {error.digest ? (
          <>
            {" "}
            and quote <code className="rounded bg-slate-100 px-1 text-sm">{error.digest}</code>
          </>
        ) : null}
        .
      </p>
      <div className="flex gap-2">
        <Button onClick={() => reset()}>Try again</Button>
        <ButtonLink href="/" variant="secondary">
          Home
        </ButtonLink>
      </div>
    </main>
  );
}
