import type { Metadata } from "next";
import Link from "next/link";
import { openApiDocument } from "@/lib/openapi/document";
import { appBaseUrl } from "@/components/shell/base-url";
import { ApiSearch } from "@/components/docs/api-search";

export const metadata: Metadata = { title: "API reference" };

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  anyOf?: Schema[];
  items?: Schema;
  format?: string;
  pattern?: string;
  maxLength?: number;
};
type Operation = {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  "x-scope"?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema; description?: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string }>;
};

const METHOD_COLORS: Record<string, string> = {
  get: "bg-emerald-100 text-emerald-800",
  post: "bg-brand-100 text-brand-700",
  patch: "bg-amber-100 text-amber-800",
  delete: "bg-red-100 text-red-800",
};

/** `code` in a description becomes code, not a pair of backticks. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`)/).map((part, i) =>
        part.startsWith("`") && part.endsWith("`") && part.length > 2 ? (
          <code key={i} className="rounded bg-slate-100 px-1 font-mono text-[0.85em] text-slate-800">
            {part.slice(1, -1)}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}

function resolve(schema: Schema | undefined, components: Record<string, Schema>): Schema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return resolve(components[schema.$ref.split("/").pop()!], components);
  return schema;
}

function typeOf(s: Schema | undefined, components: Record<string, Schema>): string {
  const r = resolve(s, components);
  if (!r) return "any";
  if (r.enum) return r.enum.map((e) => JSON.stringify(e)).join(" | ");
  if (r.anyOf) return r.anyOf.map((x) => typeOf(x, components)).join(" | ");
  if (r.type === "array") return `${typeOf(r.items, components)}[]`;
  const t = Array.isArray(r.type) ? r.type.join(" | ") : (r.type ?? "object");
  return r.format ? `${t} (${r.format})` : t;
}

function example(method: string, path: string, base: string, op: Operation, components: Record<string, Schema>): string {
  const url = `${base}${path.replace("{type}", "client").replace("{id}", "…")}`;
  const lines = [`curl${method === "get" ? "" : ` -X ${method.toUpperCase()}`} "${url}"`, `  -H "Authorization: Bearer sk_live_…"`];
  const body = resolve(op.requestBody?.content["application/json"]?.schema, components);
  if (body?.properties) {
    const sample: Record<string, unknown> = {};
    for (const name of (body.required ?? Object.keys(body.properties)).slice(0, 3)) {
      const t = typeOf(body.properties[name], components);
      sample[name] = t.startsWith('"') ? JSON.parse(t.split(" | ")[0]!) : t.includes("number") ? 1 : t.includes("[]") ? [] : t === "object" ? {} : "…";
    }
    lines.push(`  -H "Content-Type: application/json"`, `  -d '${JSON.stringify(sample)}'`);
  }
  if (op.requestBody?.content["multipart/form-data"]) lines.push(`  -F "file=@clients.csv" -F "type=client"`);
  return lines.join(" \\\n");
}

export default async function ApiReferencePage() {
  const doc = openApiDocument() as unknown as {
    info: { description: string };
    paths: Record<string, Record<string, Operation>>;
    webhooks: Record<string, { post: Operation }>;
    components: { schemas: Record<string, Schema> };
  };
  const components = doc.components.schemas ?? {};
  const base = await appBaseUrl();
  const groups = new Map<string, { method: string; path: string; op: Operation }[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? "Other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push({ method, path, op });
    }
  }
  return (
    <div className="mx-auto flex max-w-6xl gap-8 px-6 py-10">
      <nav className="sticky top-6 hidden h-fit w-48 shrink-0 space-y-1 text-sm lg:block">
        <Link href="/" className="mb-4 block font-semibold">
          Smarfle
        </Link>
        {[...groups.keys()].map((tag) => (
          <a key={tag} href={`#${tag.toLowerCase().replace(/\s+/g, "-")}`} className="block text-slate-600 hover:text-slate-900">
            {tag}
          </a>
        ))}
        <a href="#events" className="block text-slate-600 hover:text-slate-900">
          Events (webhooks)
        </a>
        <a href="/api/v1/openapi.json" className="block pt-4 text-brand-600 hover:underline">
          openapi.json
        </a>
      </nav>
      <main className="min-w-0 flex-1">
        <h1 className="text-2xl font-semibold">API reference</h1>
        <p className="mt-2 max-w-3xl text-sm text-slate-600">
          <Prose text={doc.info.description} />
        </p>
        <p className="mt-2 max-w-3xl text-sm text-slate-600">
          Errors: <code className="text-xs">{`{"error": {"code", "message", "details": [{"path", "message"}], "request_id"}}`}</code>. Every response carries
          X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset and the IETF RateLimit fields; 429 adds Retry-After. Generated from the same schemas the
          API validates with.
        </p>
        <ApiSearch />
        {[...groups.entries()].map(([tag, ops]) => (
          <section key={tag} id={tag.toLowerCase().replace(/\s+/g, "-")} className="mt-10">
            <h2 className="border-b border-slate-200 pb-2 text-lg font-semibold">{tag}</h2>
            {ops.map(({ method, path, op }) => {
              const body = resolve(op.requestBody?.content["application/json"]?.schema, components);
              return (
                <article
                  key={op.operationId}
                  id={op.operationId}
                  data-search={`${method} ${path} ${op.summary ?? ""} ${op.description ?? ""} ${tag}`.toLowerCase()}
                  className="mt-6 rounded-lg bg-white p-5 ring-1 ring-slate-200"
                >
                  <h3 className="flex flex-wrap items-center gap-2 font-mono text-sm">
                    <span className={`rounded px-1.5 py-0.5 text-xs font-semibold uppercase ${METHOD_COLORS[method] ?? "bg-slate-100"}`}>{method}</span>
                    {path}
                    {op["x-scope"] ? <span className="rounded bg-slate-100 px-1.5 py-0.5 font-sans text-xs text-slate-600">scope: {op["x-scope"]}</span> : null}
                  </h3>
                  {op.summary ? (
                    <p className="mt-2 text-sm font-medium">
                      <Prose text={op.summary} />
                    </p>
                  ) : null}
                  {op.description ? (
                    <p className="mt-1 text-sm text-slate-600">
                      <Prose text={op.description} />
                    </p>
                  ) : null}
                  {op.parameters?.length ? (
                    <table className="mt-3 w-full text-xs">
                      <tbody>
                        {op.parameters.map((p) => (
                          <tr key={`${p.in}-${p.name}`} className="border-t border-slate-100">
                            <td className="py-1 pr-3 font-mono">{p.name}</td>
                            <td className="py-1 pr-3 text-slate-500">{p.in}</td>
                            <td className="py-1 text-slate-600">{typeOf(p.schema, components)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                  {body?.properties ? (
                    <table className="mt-3 w-full text-xs">
                      <thead>
                        <tr className="text-left text-slate-500">
                          <th className="py-1 font-medium">Body field</th>
                          <th className="py-1 font-medium">Type</th>
                        </tr>
                      </thead>
                      <tbody>
                        {Object.entries(body.properties).map(([name, s]) => (
                          <tr key={name} className="border-t border-slate-100">
                            <td className="py-1 pr-3 font-mono">
                              {name}
                              {body.required?.includes(name) ? <span className="text-red-600"> *</span> : null}
                            </td>
                            <td className="py-1 text-slate-600">{typeOf(s, components)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                  <pre className="mt-3 overflow-x-auto rounded-md bg-slate-900 px-3 py-2 text-xs text-slate-100">
                    {example(method, path, base, op, components)}
                  </pre>
                  <p className="mt-2 text-xs text-slate-500">
                    Responses:{" "}
                    {Object.entries(op.responses)
                      .map(([code, r]) => `${code} ${r.description.split(".")[0]!.replace(/`/g, "")}`)
                      .join(" · ")}
                  </p>
                </article>
              );
            })}
          </section>
        ))}
        <EventsSection webhooks={doc.webhooks} components={components} />
      </main>
    </div>
  );
}

/** What Smarfle POSTs to an endpoint, one entry per event type (the document's `webhooks` section). */
function EventsSection({ webhooks, components }: { webhooks: Record<string, { post: Operation }>; components: Record<string, Schema> }) {
  return (
    <section id="events" className="mt-10">
      <h2 className="border-b border-slate-200 pb-2 text-lg font-semibold">Events (webhooks)</h2>
      <p className="mt-2 max-w-3xl text-sm text-slate-600">
        The body of every webhook: <code className="text-xs">{`{"id", "type", "created_at", "org_id", "data", "previous"?}`}</code>, signed with webhook-id,
        webhook-timestamp and webhook-signature (Standard Webhooks). Each type&apos;s JSON Schema is in <code className="text-xs">GET /api/v1/event-types</code>{" "}
        and in the document&apos;s <code className="text-xs">webhooks</code> section.
      </p>
      <div className="mt-4 divide-y divide-slate-100 rounded-lg bg-white ring-1 ring-slate-200">
        {Object.entries(webhooks).map(([type, { post }]) => {
          const envelope = resolve(post.requestBody?.content["application/json"]?.schema, components);
          const data = resolve(envelope?.properties?.data, components);
          const fields = data?.anyOf
            ? data.anyOf.map((d) => resolve(d, components)?.properties?.object?.enum?.[0] ?? "record").join(" | ")
            : Object.keys(data?.properties ?? {}).join(", ");
          return (
            <article key={type} id={`event-${type}`} className="px-5 py-3">
              <h3 className="font-mono text-sm font-semibold">{type}</h3>
              <p className="mt-1 text-sm text-slate-600">{post.description}</p>
              <p className="mt-1 break-words text-xs text-slate-500">
                <span className="font-medium">data:</span> {fields || "object"}
                {envelope?.properties?.previous ? " · previous: the changed fields' old values" : ""}
              </p>
            </article>
          );
        })}
      </div>
    </section>
  );
}
