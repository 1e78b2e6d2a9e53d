import { benchDisabled } from "@/lib/http/bench";

/**
 * The benchmarks' baseline: a bare route handler returning a fixed body shaped like
 * GET /api/v1/me (served only with
 * SMARFLE_BENCH=1) — no key, no limiter, no database — so bench/ can show what the gate costs.
 */
const BODY = JSON.stringify({
  object: "api_key",
  id: "key_00000000000000000000000",
  name: "baseline",
  prefix: "sk_live_0000",
  scopes: ["read"],
  expires_at: null,
  organization: { id: "org_00000000000000000000000", slug: "baseline", name: "Baseline", plan: "business" },
  rate_limit: { limit: 3000, window_seconds: 60, org_limit: 6000 },
});

export function GET(): Response {
  return benchDisabled() ?? new Response(BODY, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}
