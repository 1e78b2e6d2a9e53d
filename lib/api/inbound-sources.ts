import "server-only";
import { z } from "zod";
import { INBOUND_KINDS } from "@/db/schema";
import { baseUrl } from "@/lib/http/base-url";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import {
  createSource,
  deleteSource,
  getSource,
  listRequests,
  listSources,
  requestView,
  sourceFields,
  sourcePatch,
  sourceView,
  updateSource,
} from "@/lib/inbound/sources";
import { deletedOf, idParam, listOf, listParams, mappingDoc } from "@/lib/openapi/schemas";
import { defineRoute } from "./define";

const sourceSchema = z
  .object({
    id: z.string(),
    object: z.literal("inbound_source"),
    name: z.string(),
    kind: z.enum(INBOUND_KINDS),
    url: z.string(),
    mapping: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    verify_token: z
      .string()
      .nullable()
      .optional()
      .meta({ description: "meta_lead_ads only: the token to paste into Meta's webhook settings (the subscription handshake echoes it)." }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: "InboundSource" });

const requestSchema = z
  .object({
    id: z.string(),
    object: z.literal("inbound_request"),
    received_at: z.iso.datetime(),
    verified: z.boolean(),
    status: z.enum(["processed", "failed", "rejected", "duplicate"]),
    http_status: z.number().int(),
    record_id: z.string().nullable(),
    created: z.number().int(),
    updated: z.number().int(),
    error: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    reprocessed_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "InboundRequest" });

const tags = ["Inbound"];
const params = idParam("src");

const listSourcesRoute = defineRoute({
  method: "GET",
  path: "/api/v1/inbound-sources",
  scope: "admin",
  doc: {
    operationId: "list_inbound_sources",
    summary: "List inbound webhook sources",
    tags,
    query: listParams(true),
    response: { status: 200, description: "Sources.", schema: listOf(sourceSchema, "InboundSourceList") },
    errors: [403],
  },
  async handler({ db, orgId, req }) {
    const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 100, cursorPrefix: "src" });
    const rows = await listSources(db, orgId, { limit: limit + 1, cursor });
    const page = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return {
      body: { object: "list", data: page.map((s) => sourceView(s, baseUrl(req))), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null },
    };
  },
});

/** Answers with the source's URL and its secret (shown here, and to admins in settings). */
const createSourceRoute = defineRoute({
  method: "POST",
  path: "/api/v1/inbound-sources",
  scope: "admin",
  doc: {
    operationId: "create_inbound_source",
    summary: "Create an inbound webhook source",
    description:
      "`kind`: `hmac_sha256_hex` (header `X-Signature`, hex digest, optional `sha256=` prefix), `shopify` (header `X-Shopify-Hmac-Sha256`, base64) — both keyed with the secret string's UTF-8 bytes — or `standard_webhooks` (a `whsec_` secret, 5-minute timestamp tolerance); provider presets `stripe` (`Stripe-Signature`, 5-minute tolerance; `secret` = your `whsec_…` signing secret), `github` (`X-Hub-Signature-256`), `typeform` (`Typeform-Signature`), `calendly` (`Calendly-Webhook-Signature`, 3-minute tolerance; `secret` = your signing key), `basic_auth` (the secret as the password) and `header_secret` (`X-Webhook-Secret`), each with a default `mapping` for the provider's usual payload; and the lead channels `google_ads_leads` (paste the answer's `secret` as the lead form's key) and `meta_lead_ads` (`secret` = the app secret, `page_access_token`; paste the answer's `verify_token` into Meta), which take no mapping. Answers with the URL to post to and the secret.",
    tags,
    body: { schema: sourceFields.extend({ mapping: mappingDoc.optional() }).meta({ id: "InboundSourceCreate" }) },
    response: {
      status: 201,
      description: "The source, its URL and its secret.",
      schema: sourceSchema.extend({ secret: z.string() }).meta({ id: "InboundSourceWithSecret" }),
    },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, req }) {
    const { source, secret } = await createSource(db, { orgId, actor, source: "api" }, await readJson(req));
    return { status: 201, body: { ...sourceView(source, baseUrl(req)), secret } };
  },
});

const getSourceRoute = defineRoute({
  method: "GET",
  path: "/api/v1/inbound-sources/{id}",
  scope: "admin",
  doc: {
    operationId: "get_inbound_source",
    summary: "Get an inbound source",
    tags,
    params,
    response: { status: 200, description: "The source.", schema: sourceSchema },
    errors: [403, 404],
  },
  async handler({ db, orgId, req }, { id }) {
    return { body: sourceView(await getSource(db, orgId, id), baseUrl(req)) };
  },
});

const updateSourceRoute = defineRoute({
  method: "PATCH",
  path: "/api/v1/inbound-sources/{id}",
  scope: "admin",
  doc: {
    operationId: "update_inbound_source",
    summary: "Change an inbound source's name, mapping or state",
    tags,
    params,
    body: { schema: sourcePatch.extend({ mapping: mappingDoc.optional() }).meta({ id: "InboundSourceUpdate" }) },
    response: { status: 200, description: "The source.", schema: sourceSchema },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    return { body: sourceView(await updateSource(db, { orgId, actor, source: "api" }, id, await readJson(req)), baseUrl(req)) };
  },
});

const deleteSourceRoute = defineRoute({
  method: "DELETE",
  path: "/api/v1/inbound-sources/{id}",
  scope: "admin",
  doc: {
    operationId: "delete_inbound_source",
    summary: "Delete an inbound source",
    tags,
    params,
    response: { status: 200, description: "Deleted.", schema: deletedOf("inbound_source") },
    errors: [403, 404],
  },
  async handler({ db, orgId, actor }, { id }) {
    await deleteSource(db, { orgId, actor, source: "api" }, id);
    return { body: { id, object: "inbound_source", deleted: true } };
  },
});

const listRequestsRoute = defineRoute({
  method: "GET",
  path: "/api/v1/inbound-sources/{id}/requests",
  scope: "admin",
  doc: {
    operationId: "list_inbound_requests",
    summary: "What a source received, newest first",
    tags,
    params,
    query: listParams(true),
    response: { status: 200, description: "Requests.", schema: listOf(requestSchema, "InboundRequestList") },
    errors: [403, 404],
  },
  async handler({ db, orgId, req }, { id }) {
    const query = listQuery(new URL(req.url).searchParams, { defaultLimit: 50, cursorPrefix: "inr" });
    const page = await listRequests(db, orgId, id, query);
    return { body: { object: "list", data: page.items.map(requestView), has_more: page.nextCursor !== null, next_cursor: page.nextCursor } };
  },
});

export const inboundSourceRoutes = [listSourcesRoute, createSourceRoute, getSourceRoute, updateSourceRoute, deleteSourceRoute, listRequestsRoute];
