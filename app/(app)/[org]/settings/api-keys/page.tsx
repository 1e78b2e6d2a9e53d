import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listApiKeys } from "@/lib/api-keys/keys";
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { Snippet } from "@/components/ui/snippet";
import { KEY_PLACEHOLDER, leadCurl } from "@/lib/leads/snippets";
import { CreateKeyForm, RevokeKeyForm, RotateKeyForm } from "@/components/settings/api-keys";
import { appBaseUrl } from "@/components/shell/base-url";
import { formatDateTime } from "@/components/ui/dates";

const date = (d: Date | null) => formatDateTime(d);
const statusColor = { active: "green", rotating: "amber", expired: "gray", revoked: "red" } as const;

export default async function ApiKeysPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const keys = await listApiKeys(await getDb(), me.org.id);
  const base = await appBaseUrl();
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys let scripts, integrations and web forms reach this organization. Only a hash is stored: a key is shown once, when it is created."
      />
      <Card title="Generate a key" className="mb-6">
        <CreateKeyForm org={me.org.slug} />
      </Card>
      {keys.length === 0 ? (
        <EmptyState title="No API keys yet">
          Generate one above: a <span className="font-mono text-xs">leads</span> key for a website form, or <span className="font-mono text-xs">read</span> +{" "}
          <span className="font-mono text-xs">write</span> for Zapier.
        </EmptyState>
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>Key</Th>
              <Th>Scopes</Th>
              <Th>Created</Th>
              <Th>Last used</Th>
              <Th>Expires</Th>
              <Th>Status</Th>
              <Th />
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {keys.map((k) => (
              <tr key={k.id} data-testid={`api-key-${k.id}`}>
                <Td>
                  <div className="font-medium text-slate-900">{k.name}</div>
                  <div className="font-mono text-xs text-slate-500">{k.prefix}…</div>
                </Td>
                <Td>
                  <div className="flex flex-wrap gap-1">
                    {k.scopes.map((s) => (
                      <Badge key={s} color="blue">
                        {s}
                      </Badge>
                    ))}
                  </div>
                </Td>
                <Td className="text-xs">
                  {date(k.createdAt)}
                  <div className="text-slate-400">by {k.creator}</div>
                </Td>
                <Td className="text-xs">{date(k.lastUsedAt)}</Td>
                <Td className="text-xs">{date(k.expiresAt)}</Td>
                <Td>
                  <Badge color={statusColor[k.status]}>{k.status}</Badge>
                </Td>
                <Td>
                  {k.status === "active" ? (
                    <div className="flex flex-col items-end gap-2">
                      <RotateKeyForm org={me.org.slug} id={k.id} label={k.name} />
                      <RevokeKeyForm org={me.org.slug} id={k.id} label={k.name} />
                    </div>
                  ) : k.status === "rotating" ? (
                    <RevokeKeyForm org={me.org.slug} id={k.id} label={k.name} />
                  ) : null}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Card
        title="Try it"
        description="Ready to paste: a key generated above is filled in (where it has the scope), otherwise replace sk_live_… with yours."
        className="mt-6"
      >
        <div className="space-y-3 text-sm">
          <p className="font-medium">Check a key</p>
          <Snippet label="the key check" code={`curl ${base}/api/v1/me \\\n  -H "Authorization: Bearer ${KEY_PLACEHOLDER}"`} />
          <p className="font-medium">List clients</p>
          <Snippet
            label="the client list"
            scope="read"
            code={`curl "${base}/api/v1/records/client?limit=10" \\\n  -H "Authorization: Bearer ${KEY_PLACEHOLDER}"`}
          />
          <p className="font-medium">Capture a lead (a key with the leads scope)</p>
          <Snippet label="the lead capture call" scope="leads" code={leadCurl(base)} />
          <p className="font-medium">Subscribe a webhook (a key with the admin scope)</p>
          <Snippet
            label="the webhook subscription"
            scope="admin"
            code={`curl -X POST ${base}/api/v1/webhooks \\\n  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" -H "Content-Type: application/json" \\\n  -d '{"url": "https://example.com/hooks/smarfle", "event_types": ["client_created"]}'`}
          />
          <p className="text-slate-500">
            The full reference:{" "}
            <Link href="/docs/api" className="text-brand-600 hover:underline">
              API reference
            </Link>{" "}
            ·{" "}
            <a href="/api/v1/openapi.json" className="text-brand-600 hover:underline">
              openapi.json
            </a>
          </p>
        </div>
      </Card>
    </>
  );
}
