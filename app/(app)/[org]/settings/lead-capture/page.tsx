import { requireMembership } from "@/lib/auth/session";
import { Card, Code, PageHeader } from "@/components/ui/layout";
import { LeadSettingsForm } from "@/components/settings/lead-capture";
import { appBaseUrl } from "@/components/shell/base-url";
import { LeadChannel, type ChannelSource } from "@/components/settings/lead-channels";
import { getDb } from "@/db/client";
import { listSources, sourceView } from "@/lib/inbound/sources";

export default async function LeadCapturePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const base = await appBaseUrl();
  const channels = (await listSources(await getDb(), me.org.id))
    .filter((s): s is typeof s & { kind: ChannelSource["kind"] } => s.kind === "google_ads_leads" || s.kind === "meta_lead_ads")
    .map((s) => ({ id: s.id, name: s.name, kind: s.kind, url: sourceView(s, base).url, verifyToken: s.verifyToken }));
  const form = `<form action="${base}/api/webhook/leads?key=sk_live_…" method="post">
  <input name="name" placeholder="Your name" required>
  <input name="email" type="email" placeholder="Email">
  <input name="phone" placeholder="Phone">
  <textarea name="message"></textarea>
  <!-- Leave empty: bots fill it in, and their submissions are dropped. -->
  <input name="_gotcha" style="display:none" tabindex="-1" autocomplete="off">
  <input type="hidden" name="redirect_to" value="https://www.example.com/thanks">
  <button>Send</button>
</form>`;
  const js = `await fetch("${base}/api/webhook/leads", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-API-Key": "sk_live_…", "Idempotency-Key": crypto.randomUUID() },
  body: JSON.stringify({ name, email, phone, message, utm_source }),
});`;
  return (
    <>
      <PageHeader
        title="Lead capture"
        description="Your website form, your Google Ads lead forms and your Facebook and Instagram lead ads all land here. A new lead becomes a client with status lead, notifies your team and fires client_created; a returning one is added to its client's lead history."
      />
      <div className="space-y-6">
        <Card title="Settings">
          <LeadSettingsForm org={me.org.slug} origins={me.org.leadAllowedOrigins} redirects={me.org.leadRedirectUrls} merge={me.org.leadMerge} country={me.org.defaultCountry} />
        </Card>
        <Card title="Google Ads lead forms" description="Leads from the lead form assets of your Google Ads campaigns, delivered by Google's webhook integration.">
          <LeadChannel org={me.org.slug} base={base} kind="google_ads_leads" sources={channels.filter((c) => c.kind === "google_ads_leads")} />
        </Card>
        <Card title="Facebook and Instagram lead ads" description="Meta notifies Smarfle of each new lead; Smarfle fetches it from the Graph API with your page's token, retrying until it succeeds.">
          <LeadChannel org={me.org.slug} base={base} kind="meta_lead_ads" sources={channels.filter((c) => c.kind === "meta_lead_ads")} />
        </Card>
        <Card title="Website form: put it on your website" description="Use an API key with only the leads scope: it can do nothing else, so it is safe in a public page.">
          <div className="space-y-3 text-sm">
            <p className="font-medium">A plain HTML form</p>
            <Code>{form}</Code>
            <p className="font-medium">From JavaScript</p>
            <Code>{js}</Code>
            <p className="text-slate-500">
              Recognised fields: name (or first_name + last_name), email, phone, company, message, source and utm_*. Everything else is kept in the client&apos;s custom fields.
            </p>
          </div>
        </Card>
      </div>
    </>
  );
}
