import { benchDisabled } from "@/lib/http/bench";

/**
 * The lead benchmark's baseline: a bare route handler answering a POST with a fixed body shaped
 * like what POST /api/webhook/leads returns (the new client, 201) (served only with
 * SMARFLE_BENCH=1) — no key, no limiter, no body
 * parsing, no database — so bench/leads.mjs can show what capturing a lead costs.
 */
const BODY = JSON.stringify({
  id: "cli_00000000000000000000000",
  object: "client",
  name: "Bench Lead",
  email: "lead@bench.test",
  phone: "+1 555 0100",
  company: null,
  address: null,
  source: "bench",
  status: "lead",
  external_id: null,
  custom_fields: { message: "Quote please", utm_source: "bench" },
  version: 1,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
});

export function POST(): Response {
  return benchDisabled() ?? new Response(BODY, { status: 201, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}
