import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { env } from "@/lib/env";
import { developmentMailbox } from "@/lib/email/send";

export const metadata: Metadata = { title: "Development mailbox" };

/** Development only, with no SMTP_URL: the messages the app would have sent, newest first. */
export default function DevMailboxPage() {
  if (env().NODE_ENV !== "development") notFound();
  const mail = developmentMailbox();
  return (
    <main className="mx-auto max-w-3xl px-6 py-10">
      <h1 className="mb-1 text-xl font-semibold">Development mailbox</h1>
      <p className="mb-6 text-sm text-slate-500">
        {env().SMTP_URL
          ? "SMTP_URL is set: mail goes out through it, not here."
          : "No SMTP_URL: nothing is sent; each message is printed to the server log and kept here (the last 50, until the server restarts)."}
      </p>
      {mail.length === 0 ? <p className="text-sm text-slate-500">No messages yet.</p> : null}
      <ul className="space-y-4">
        {mail.map((m, i) => (
          <li key={`${m.at}-${i}`} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
            <p className="text-sm font-medium">{m.subject}</p>
            <p className="mb-2 text-xs text-slate-500">
              to {m.to} · {m.at}
            </p>
            <pre className="text-sm whitespace-pre-wrap">{m.text}</pre>
          </li>
        ))}
      </ul>
    </main>
  );
}
