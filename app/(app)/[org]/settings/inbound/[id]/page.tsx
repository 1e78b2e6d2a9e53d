import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { isAppError } from "@/lib/errors";
import { getSource, listRequests } from "@/lib/inbound/sources";
import { Badge, Card, Code, PageHeader } from "@/components/ui/layout";
import { CopyButton } from "@/components/ui/copy-button";
import { Reprocess, SourceControls, SourceMappingForm, SourceSecret } from "@/components/settings/data-in";
import { appBaseUrl } from "@/components/shell/base-url";
import { formatDateTime } from "@/components/ui/dates";

const color = { processed: "green", failed: "red", rejected: "amber", duplicate: "gray" } as const;

export default async function SourcePage({ params }: { params: Promise<{ org: string; id: string }> }) {
  const { org: slug, id } = await params;
  const me = await requireMembership(slug, "admin");
  const db = await getDb();
  const source = await getSource(db, me.org.id, id).catch((err) => {
    if (isAppError(err) && err.code === "not_found") notFound();
    throw err;
  });
  const requests = await listRequests(db, me.org.id, id, { limit: 50 });
  const url = `${await appBaseUrl()}/api/inbound/${source.id}`;
  return (
    <>
      <p className="mb-1 text-sm">
        <Link href={`/${me.org.slug}/settings/inbound`} className="text-slate-500 hover:underline">
          ← Inbound webhooks
        </Link>
      </p>
      <PageHeader
        title={source.name}
        description={<span className="font-mono text-xs">{source.kind}</span>}
        actions={<SourceControls org={me.org.slug} id={id} enabled={source.enabled} />}
      />
      <div className="mb-6 grid gap-4 lg:grid-cols-2">
        <Card title="Where to send">
          <div className="flex items-center gap-2">
            <code className="flex-1 overflow-x-auto rounded bg-slate-100 px-2 py-1 font-mono text-xs">{url}</code>
            <CopyButton text={url} />
          </div>
          <p className="mt-2 text-xs text-slate-500">POST JSON, signed with the secret below. Requests with a bad signature are refused with 401 and logged.</p>
        </Card>
        <Card title="Signing secret">
          <SourceSecret org={me.org.slug} id={id} />
        </Card>
      </div>
      <Card title="Mapping" className="mb-6">
        <SourceMappingForm org={me.org.slug} id={id} mapping={JSON.stringify(source.mapping, null, 2)} />
      </Card>
      <Card title="Requests received">
        {requests.items.length === 0 ? (
          <p className="text-sm text-slate-500">Nothing received yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {requests.items.map((r) => (
              <li key={r.id} className="py-2">
                <details>
                  <summary className="flex cursor-pointer flex-wrap items-center gap-3 text-sm">
                    <Badge color={color[r.status]}>{r.status}</Badge>
                    <span className="text-xs">HTTP {r.httpStatus}</span>
                    <span className="text-xs text-slate-500">{r.verified ? "signature verified" : "signature refused"}</span>
                    {r.created ? (
                      <span className="text-xs">created {r.recordId}</span>
                    ) : r.updated ? (
                      <span className="text-xs">updated {r.recordId}</span>
                    ) : null}
                    {r.error ? <span className="text-xs text-red-700">{r.error}</span> : null}
                    <span className="ml-auto text-xs text-slate-400">{formatDateTime(r.createdAt, { seconds: true })}</span>
                  </summary>
                  <div className="mt-2 space-y-2">
                    <Code>
                      {Object.entries(r.headers)
                        .map(([k, v]) => `${k}: ${v}`)
                        .join("\n")}
                    </Code>
                    <Code>{r.body.slice(0, 4000)}</Code>
                    {r.verified && r.status === "failed" ? <Reprocess org={me.org.slug} requestId={r.id} /> : null}
                  </div>
                </details>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
