import { apiRoute, keyRateLimit, ORG_CEILING_MULTIPLIER, WINDOW_SECONDS } from "@/lib/http/gate";

/** The cheap "test my key" call: which org, which scopes, which limits. */
export const GET = apiRoute({ scope: "read" }, async ({ key }) => {
  const rpm = keyRateLimit(key);
  return {
    body: {
      object: "api_key",
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      scopes: key.scopes,
      expires_at: key.expiresAt?.toISOString() ?? null,
      organization: { id: key.org.id, slug: key.org.slug, name: key.org.name, plan: key.org.plan },
      rate_limit: { limit: rpm, window_seconds: WINDOW_SECONDS, org_limit: rpm * ORG_CEILING_MULTIPLIER },
    },
  };
});
