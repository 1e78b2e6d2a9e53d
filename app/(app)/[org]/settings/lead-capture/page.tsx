import { requireMembership } from "@/lib/auth/session";
import { getDb } from "@/db/client";
import { listApiKeys } from "@/lib/api-keys/keys";
import { Card, PageHeader } from "@/components/ui/layout";
import { LeadSnippets } from "@/components/settings/lead-snippets";
import { LeadSettingsForm } from "@/components/settings/lead-capture";
import { appBaseUrl } from "@/components/shell/base-url";

export default async function LeadCapturePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const base = await appBaseUrl();
  const keys = (await listApiKeys(await getDb(), me.org.id)).filter((k) => k.status === "active" && k.scopes.includes("leads")).map((k) => ({ id: k.id, name: k.name, prefix: k.prefix }));
  return (
    <>
      <PageHeader title="Lead capture" description="Any website form, ad platform or script can post leads here. Each becomes a client with status lead, notifies your team and fires client_created." />
      <div className="space-y-6">
        <Card title="Settings">
          <LeadSettingsForm key={[...me.org.leadAllowedOrigins, ...me.org.leadRedirectUrls].join("\n")} org={me.org.slug} origins={me.org.leadAllowedOrigins} redirects={me.org.leadRedirectUrls} />
        </Card>
        <Card title="Put it on your website" description="Pick or create a key with only the leads scope, then copy a snippet: each is ready to paste.">
          <LeadSnippets org={me.org.slug} base={base} keys={keys} origins={me.org.leadAllowedOrigins} redirects={me.org.leadRedirectUrls} />
          <p className="mt-3 text-sm text-slate-500">
            Recognised fields: name (or first_name + last_name), email, phone, company, message, source and utm_*. Everything else is kept in the client&apos;s custom fields.
          </p>
        </Card>
      </div>
    </>
  );
}
