import "server-only";
import { z } from "zod";
import { splitLines, updateLeadSettings } from "@/lib/leads/settings";
import { createSource } from "@/lib/inbound/sources";
import { defineOrgAction, uiChange } from "@/lib/auth/action";

export const updateLeadSettingsAction = defineOrgAction({
  name: "lead_capture.update",
  role: "admin",
  input: z.object({
    org: z.string(),
    allowedOrigins: z.string().max(10_000).default(""),
    redirectUrls: z.string().max(10_000).default(""),
    // A checkbox: present when ticked.
    merge: z.string().max(10).optional(),
    defaultCountry: z.string().max(10).default(""),
  }),
  async run(ctx, input) {
    const org = await updateLeadSettings(
      ctx.db,
      { orgId: ctx.org.id, actor: ctx.actor, source: "ui" },
      {
        allowedOrigins: splitLines(input.allowedOrigins),
        redirectUrls: splitLines(input.redirectUrls),
        merge: input.merge !== undefined,
        defaultCountry: input.defaultCountry,
      },
    );
    return { allowedOrigins: org.leadAllowedOrigins, redirectUrls: org.leadRedirectUrls, merge: org.leadMerge, defaultCountry: org.defaultCountry };
  },
});

/** A Google Ads lead form or Meta Lead Ads source, created from Settings → Lead capture. */
export const createLeadChannelAction = defineOrgAction({
  name: "lead_capture.create_channel",
  role: "admin",
  input: z.object({
    org: z.string(),
    kind: z.enum(["google_ads_leads", "meta_lead_ads"]),
    name: z.string().max(100),
    secret: z.string().max(500).optional(),
    page_access_token: z.string().max(1000).optional(),
  }),
  async run(ctx, input) {
    const { source, secret } = await createSource(ctx.db, uiChange(ctx), {
      name: input.name,
      kind: input.kind,
      ...(input.kind === "meta_lead_ads" ? { secret: input.secret, page_access_token: input.page_access_token } : {}),
    });
    // Google's key is shown once here (and on demand later); Meta's app secret is the admin's own.
    return { id: source.id, key: input.kind === "google_ads_leads" ? secret : null, verifyToken: source.verifyToken };
  },
});
