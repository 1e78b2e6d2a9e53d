"use client";

import "./globals.css";

/** The last resort, when even the root layout failed: it must bring its own <html> and <body>. */
export default function GlobalError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <main className="mx-auto flex min-h-screen max-w-lg flex-col justify-center gap-4 px-6">
          <h1 className="text-2xl font-semibold text-slate-900">Smarfle is briefly unavailable</h1>
          <p className="text-slate-600">Nothing you saved is lost. Try again in a few seconds.</p>
          <button className="w-fit rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white" onClick={() => reset()}>
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
