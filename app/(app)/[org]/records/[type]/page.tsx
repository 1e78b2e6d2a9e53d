import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listRecords } from "@/lib/records/queries";
import { registry } from "@/lib/records/registry";
import { ButtonLink, buttonClass } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/form";
import { EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { display, referenceTitles, typeFromSlug } from "@/components/records/load";

export default async function RecordListPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string; type: string }>;
  searchParams: Promise<{ q?: string; status?: string; cursor?: string }>;
}) {
  const { org: slug, type } = await params;
  const { q, status, cursor } = await searchParams;
  const me = await requireMembership(slug);
  const def = typeFromSlug(type);
  const db = await getDb();
  const validStatus = status && def.statusOptions.includes(status) ? status : undefined;
  const page = await listRecords(db, me.org.id, def.type, { q, status: validStatus, cursor, limit: 25 });
  const refs = await referenceTitles(db, me.org.id, def, page.data);
  const columns = def.fields.filter((f) => f.list);
  const base = `/${me.org.slug}/records/${def.slug}`;
  const keep = (extra: Record<string, string>) =>
    new URLSearchParams({ ...(q ? { q } : {}), ...(validStatus ? { status: validStatus } : {}), ...extra }).toString();
  return (
    <>
      <PageHeader title={def.pluralLabel} actions={<ButtonLink href={`${base}/new`}>New {def.label.toLowerCase()}</ButtonLink>} />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3" role="search">
        <div className="w-72">
          <label htmlFor="q" className="block text-xs font-medium text-slate-600">
            Search
          </label>
          <Input id="q" name="q" defaultValue={q ?? ""} placeholder={`Search ${def.searchFields.join(", ")}`} />
        </div>
        <div>
          <label htmlFor="status" className="block text-xs font-medium text-slate-600">
            Status
          </label>
          <Select id="status" name="status" defaultValue={validStatus ?? ""}>
            <option value="">All</option>
            {def.statusOptions.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, " ")}
              </option>
            ))}
          </Select>
        </div>
        <button type="submit" className={buttonClass("secondary")}>
          Filter
        </button>
      </form>
      {page.data.length === 0 ? (
        <EmptyState title={q || validStatus ? "Nothing matches." : `No ${def.pluralLabel.toLowerCase()} yet.`}>
          {q || validStatus ? (
            <Link href={base} className="text-brand-600 hover:underline">
              Clear the filters
            </Link>
          ) : (
            <>
              <Link href={`${base}/new`} className="text-brand-600 hover:underline">
                Create one
              </Link>
              , or send them in through{" "}
              <Link href="/docs/api" className="text-brand-600 hover:underline">
                the API
              </Link>
              ,{" "}
              <Link href={`/${me.org.slug}/settings/lead-capture`} className="text-brand-600 hover:underline">
                a form
              </Link>
              ,{" "}
              <Link href={`/${me.org.slug}/settings/connectors`} className="text-brand-600 hover:underline">
                a connector
              </Link>{" "}
              or{" "}
              <Link href={`/${me.org.slug}/settings/import`} className="text-brand-600 hover:underline">
                an import
              </Link>
              .
            </>
          )}
        </EmptyState>
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              {columns.map((c) => (
                <Th key={c.name}>{c.label}</Th>
              ))}
              <Th>Updated</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {page.data.map((r) => (
              <tr key={r.id} className="hover:bg-slate-50">
                {columns.map((c) => (
                  <Td key={c.name}>
                    {c.name === def.titleField ? (
                      <Link href={`${base}/${r.id}`} className="font-medium text-slate-900 hover:text-brand-600">
                        {String(r[c.name] ?? r.id)}
                      </Link>
                    ) : c.kind === "reference" && typeof r[c.name] === "string" ? (
                      <Link href={`/${me.org.slug}/records/${registry[c.references!].slug}/${String(r[c.name])}`} className="hover:underline">
                        {refs[c.name]?.get(String(r[c.name])) ?? String(r[c.name])}
                      </Link>
                    ) : (
                      display(r[c.name], c.kind)
                    )}
                  </Td>
                ))}
                <Td className="whitespace-nowrap text-slate-500">
                  {new Date(String(r.updated_at)).toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" })}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <div className="mt-4 flex gap-3 text-sm">
        {cursor ? (
          <Link href={`${base}?${keep({})}`} className="text-brand-600 hover:underline">
            First page
          </Link>
        ) : null}
        {page.hasMore && page.nextCursor ? (
          <Link href={`${base}?${keep({ cursor: page.nextCursor })}`} className="text-brand-600 hover:underline">
            Next page
          </Link>
        ) : null}
      </div>
    </>
  );
}
