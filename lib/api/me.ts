import "server-only";
import { z } from "zod";
import { API_SCOPES } from "@/db/schema";
import { keyRateLimit, ORG_CEILING_MULTIPLIER, WINDOW_SECONDS } from "@/lib/http/gate";
import { defineRoute } from "./define";

const meSchema = z
  .object({
    object: z.literal("api_key"),
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(API_SCOPES)),
    expires_at: z.iso.datetime().nullable(),
    organization: z.object({ id: z.string(), slug: z.string(), name: z.string(), plan: z.enum(["starter", "pro", "business"]) }),
    rate_limit: z.object({ limit: z.number().int(), window_seconds: z.number().int(), org_limit: z.number().int() }),
  })
  .meta({ id: "Me" });

/** The cheap "test my key" call: which org, which scopes, which limits. */
const getMe = defineRoute({
  method: "GET",
  path: "/api/v1/me",
  scope: "read",
  doc: {
    operationId: "get_me",
    summary: "Which organization, scopes and rate limit this key has",
    tags: ["Keys"],
    response: { status: 200, description: "The key.", schema: meSchema },
    errors: [403],
  },
  async handler({ key }) {
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
  },
});

export const meRoutes = [getMe];
