import { requireMembership } from "@/lib/auth/session";
import { getDb } from "@/db/client";
import { listApiKeys } from "@/lib/api-keys/keys";
import { Card, PageHeader } from "@/components/ui/layout";
import { LeadSnippets } from "@/components/settings/lead-snippets";
import { LeadSettingsForm } from "@/components/settings/lead-capture";
import { appBaseUrl } from "@/components/shell/base-url";
import { LeadChannel, type ChannelSource } from "@/components/settings/lead-channels";
import { listSources, sourceView } from "@/lib/inbound/sources";

export default async function LeadCapturePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const base = await appBaseUrl();
  const db = await getDb();
  const channels = (await listSources(db, me.org.id))
    .filter((s): s is typeof s & { kind: ChannelSource["kind"] } => s.kind === "google_ads_leads" || s.kind === "meta_lead_ads")
    .map((s) => ({ id: s.id, name: s.name, kind: s.kind, url: sourceView(s, base).url, verifyToken: s.verifyToken }));
  const keys = (await listApiKeys(db, me.org.id))
    .filter((k) => k.status === "active" && k.scopes.includes("leads"))
    .map((k) => ({ id: k.id, name: k.name, prefix: k.prefix }));
  return (
    <>
      <PageHeader
        title="Lead capture"
        description="Your website form, your Google Ads lead forms and your Facebook and Instagram lead ads all land here. A new lead becomes a client with status lead, notifies your team and fires client_created; a returning one is added to its client's lead history."
      />
      <div className="space-y-6">
        <Card title="Settings">
          <LeadSettingsForm
            key={[...me.org.leadAllowedOrigins, ...me.org.leadRedirectUrls].join("\n")}
            org={me.org.slug}
            origins={me.org.leadAllowedOrigins}
            redirects={me.org.leadRedirectUrls}
            merge={me.org.leadMerge}
            country={me.org.defaultCountry}
          />
        </Card>
        <Card
          title="Website form: put it on your website"
          description="Pick or create a key with only the leads scope, then copy a snippet: each is ready to paste."
        >
          <LeadSnippets org={me.org.slug} base={base} keys={keys} origins={me.org.leadAllowedOrigins} redirects={me.org.leadRedirectUrls} />
          <p className="mt-3 text-sm text-slate-500">
            Recognised fields: name (or first_name + last_name), email, phone, company, message, source and utm_*. Everything else is kept in the client&apos;s
            custom fields.
          </p>
        </Card>
        <Card
          title="Google Ads lead forms"
          description="Leads from the lead form assets of your Google Ads campaigns, delivered by Google's webhook integration."
        >
          <LeadChannel org={me.org.slug} base={base} kind="google_ads_leads" sources={channels.filter((c) => c.kind === "google_ads_leads")} />
        </Card>
        <Card
          title="Facebook and Instagram lead ads"
          description="Meta notifies Smarfle of each new lead; Smarfle fetches it from the Graph API with your page's token, retrying until it succeeds."
        >
          <LeadChannel org={me.org.slug} base={base} kind="meta_lead_ads" sources={channels.filter((c) => c.kind === "meta_lead_ads")} />
        </Card>
      </div>
    </>
  );
}
