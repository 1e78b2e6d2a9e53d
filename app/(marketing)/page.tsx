import Link from "next/link";
import { auth } from "@/lib/auth/next-auth";
import { ButtonLink } from "@/components/ui/button";

const features = [
  [
    "API keys that are safe to hand out",
    "Hashed, scoped (read, write, delete, bulk, admin, leads-only), rotatable with a grace period, rate limited per key with standard headers.",
  ],
  [
    "Lead capture from any website",
    "Point a plain HTML form or an ad platform at one URL: each submission becomes a lead, your team is notified, nothing is lost or doubled.",
  ],
  [
    "A REST API integrators expect",
    "Predictable JSON, cursor pagination, bulk upserts by external id, one error shape, and an OpenAPI document generated from the code.",
  ],
  [
    "Signed webhooks with retries",
    "Standard Webhooks signatures any library verifies, six attempts over a day, a delivery log you can read, re-deliver and test from settings.",
  ],
  [
    "Data in, from everywhere",
    "Inbound webhooks (Shopify-style HMAC or Standard Webhooks), scheduled pull connectors and CSV or Excel import — all through the same pipeline.",
  ],
  [
    "One pipeline for every write",
    "A record from a spreadsheet is audited, counted against your plan and announced to your webhooks exactly like one typed in by a person.",
  ],
];

export default async function LandingPage() {
  const session = await auth();
  return (
    <main>
      <header className="mx-auto flex max-w-5xl items-center justify-between px-6 py-5">
        <span className="text-lg font-semibold">Smarfle</span>
        <nav className="flex items-center gap-2">
          <Link href="/docs/api" className="px-3 py-1.5 text-sm text-slate-600 hover:text-slate-900">
            API reference
          </Link>
          {session?.user ? (
            <ButtonLink href="/orgs">Open Smarfle</ButtonLink>
          ) : (
            <>
              <ButtonLink href="/sign-in" variant="ghost">
                Sign in
              </ButtonLink>
              <ButtonLink href="/sign-up">Create account</ButtonLink>
            </>
          )}
        </nav>
      </header>
      <section className="mx-auto max-w-5xl px-6 pt-16 pb-12">
        <h1 className="max-w-3xl text-4xl font-semibold tracking-tight text-slate-900">
          The CRM for service businesses, wired into everything they already use.
        </h1>
        <p className="mt-4 max-w-2xl text-lg text-slate-600">
          Cleaners, plumbers, agencies and clinics run on forms, ad platforms, shops, spreadsheets and a dozen tools. Smarfle keeps clients, jobs, invoices and
          bookings in one place and lets that data flow in and out without anyone retyping it.
        </p>
        <div className="mt-8 flex gap-3">
          <ButtonLink href="/sign-up">Create your organization</ButtonLink>
          <ButtonLink href="/docs/api" variant="secondary">
            Read the API reference
          </ButtonLink>
        </div>
      </section>
      <section className="mx-auto grid max-w-5xl gap-4 px-6 pb-20 sm:grid-cols-2 lg:grid-cols-3">
        {features.map(([title, text]) => (
          <div key={title} className="rounded-lg bg-white p-5 ring-1 ring-slate-200">
            <h2 className="text-sm font-semibold text-slate-900">{title}</h2>
            <p className="mt-2 text-sm text-slate-600">{text}</p>
          </div>
        ))}
      </section>
    </main>
  );
}
