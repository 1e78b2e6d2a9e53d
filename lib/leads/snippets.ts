/**
 * The copy-paste examples for lead capture, filled with the live base URL. Pure text: the pages
 * render them, the snippet component fills in a key, and the browser tests run them as copied.
 * Each passes a `source`, so the lead says where it came from (without one, an API lead's source
 * is "api" and a form's "web form").
 */

/** Where a key goes in every snippet until a real one is filled in. */
export const KEY_PLACEHOLDER = "sk_live_…";

export function leadCurl(base: string): string {
  return `curl -X POST ${base}/api/webhook/leads \\
  -H "X-API-Key: ${KEY_PLACEHOLDER}" -H "Content-Type: application/json" \\
  -d '{"name": "Jo Lead", "email": "jo@example.com", "message": "Quote please for a weekly office clean", "source": "contact form"}'`;
}

export function leadHtmlForm(base: string, redirectTo: string | null): string {
  return `<form action="${base}/api/webhook/leads?key=${KEY_PLACEHOLDER}" method="post">
  <input name="name" placeholder="Your name" required>
  <input name="email" type="email" placeholder="Email">
  <input name="phone" placeholder="Phone">
  <textarea name="message" placeholder="How can we help?"></textarea>
  <!-- Leave empty: bots fill it in, and their submissions are dropped. -->
  <input name="_gotcha" style="display:none" tabindex="-1" autocomplete="off">
  <input type="hidden" name="source" value="website form">${redirectTo ? `\n  <input type="hidden" name="redirect_to" value="${redirectTo.replace(/"/g, "&quot;")}">` : ""}
  <button>Send</button>
</form>`;
}

export function leadFetch(base: string): string {
  return `await fetch("${base}/api/webhook/leads", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-API-Key": "${KEY_PLACEHOLDER}", "Idempotency-Key": crypto.randomUUID() },
  body: JSON.stringify({ name, email, phone, message, source: "website" }),
});`;
}

/** Whether a form's `redirect_to` will be followed: it must start with an allowed URL (same origin, path prefix). */
export function redirectAllowed(target: string, allowed: string[]): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  return allowed.some((prefix) => {
    try {
      const p = new URL(prefix);
      return p.origin === url.origin && url.pathname.startsWith(p.pathname);
    } catch {
      return false;
    }
  });
}
