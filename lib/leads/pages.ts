import type { AppError } from "@/lib/errors";

/** The small pages a plain HTML form lands on when no redirect is configured. */

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><link rel="icon" href="/icon.svg">
<style>body{font-family:system-ui,sans-serif;background:#f8fafc;color:#0f172a;display:grid;place-items:center;min-height:100vh;margin:0}main{background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:2rem 2.5rem;max-width:28rem;box-shadow:0 1px 2px rgba(0,0,0,.04)}h1{font-size:1.25rem;margin:0 0 .5rem}p{color:#475569;line-height:1.5}ul{color:#b91c1c}a{color:#4f46e5}</style></head>
<body><main>${body}</main></body></html>`;
}

export function thankYouPage(): string {
  return page(
    "Thank you",
    `<h1>Thank you!</h1><p>We received your details and will be in touch soon.</p><p><a href="javascript:history.back()">← Back</a></p>`,
  );
}

export function errorPage(err: AppError, requestId: string): string {
  const details = err.details.length ? `<ul>${err.details.map((d) => `<li>${escape(d.path ? `${d.path}: ${d.message}` : d.message)}</li>`).join("")}</ul>` : "";
  return page(
    "We could not send your details",
    `<h1>We could not send your details</h1><p>${escape(err.message)}</p>${details}<p><a href="javascript:history.back()">← Back to the form</a></p><p style="font-size:.75rem">Reference: ${escape(requestId)}</p>`,
  );
}
