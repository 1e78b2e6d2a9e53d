import { requireMembership } from "@/lib/auth/session";
import { Card, Code, PageHeader } from "@/components/ui/layout";
import { LeadSettingsForm } from "@/components/settings/lead-capture";
import { appBaseUrl } from "@/components/shell/base-url";

export default async function LeadCapturePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const base = await appBaseUrl();
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
      <PageHeader title="Lead capture" description="Any website form, ad platform or script can post leads here. Each becomes a client with status lead, notifies your team and fires client_created." />
      <div className="space-y-6">
        <Card title="Settings">
          <LeadSettingsForm org={me.org.slug} origins={me.org.leadAllowedOrigins} redirects={me.org.leadRedirectUrls} />
        </Card>
        <Card title="Put it on your website" description="Use an API key with only the leads scope: it can do nothing else, so it is safe in a public page.">
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
