import type { InboundKind } from "@/db/schema";

/**
 * What each kind of inbound source needs at creation, and the mapping it starts with.
 *
 * - `secret`: "generated" — Smarfle makes the secret and shows it (the sender is given it);
 *   "provided" — the provider issues it (Stripe's `whsec_…`, Calendly's signing key, Meta's app
 *   secret) and the create body must carry it; "either" — the admin may paste one or take ours.
 * - Lead kinds (Google Ads, Meta) need no mapping: their leads go through lead capture.
 * - The other provider kinds come with a default mapping for the provider's usual payload, which
 *   the admin can edit (and try with the mapping preview); `alternatives` are further starting
 *   points for other events of the same provider.
 */

export type SecretPolicy = "generated" | "provided" | "either";

export interface PresetMapping {
  label: string;
  mapping: Record<string, unknown>;
}

export interface KindPreset {
  label: string;
  secret: SecretPolicy;
  lead: boolean;
  mappings: PresetMapping[];
}

const stripeCustomer: PresetMapping = {
  label: "customer.created → client",
  mapping: {
    target: "client",
    external_id: "data.object.id",
    fields: {
      name: { from: "data.object.name", default: "Stripe customer" },
      email: { from: "data.object.email", transform: "lower" },
      phone: "data.object.phone",
      source: { value: "stripe" },
      status: { value: "active" },
    },
  },
};

const stripeInvoice: PresetMapping = {
  label: "invoice.paid → invoice",
  mapping: {
    target: "invoice",
    external_id: "data.object.id",
    fields: {
      number: { from: "data.object.number", default: "stripe" },
      amount: { from: "data.object.amount_paid", transform: "cents" },
      currency: { from: "data.object.currency", transform: "upper" },
      status: { value: "paid" },
      "custom_fields.stripe_customer": "data.object.customer",
      "custom_fields.customer_email": "data.object.customer_email",
    },
  },
};

const calendlyBooking: PresetMapping = {
  label: "invitee.created → booking",
  mapping: {
    target: "booking",
    external_id: "payload.uri",
    fields: {
      service: { from: "payload.scheduled_event.name", default: "Calendly booking" },
      starts_at: "payload.scheduled_event.start_time",
      ends_at: "payload.scheduled_event.end_time",
      "custom_fields.invitee_name": "payload.name",
      "custom_fields.invitee_email": "payload.email",
    },
  },
};

const typeformLead: PresetMapping = {
  label: "form_response → lead (answers in the order name, email, phone: edit the paths to match your form)",
  mapping: {
    target: "client",
    external_id: "form_response.token",
    fields: {
      name: { from: "form_response.answers[0].text", default: "Typeform respondent" },
      email: { from: "form_response.answers[1].email", transform: "lower" },
      phone: "form_response.answers[2].phone_number",
      source: { value: "typeform" },
      status: { value: "lead" },
      "custom_fields.form_id": "form_response.form_id",
    },
  },
};

const githubClient: PresetMapping = {
  label: "sponsorship / event sender → client",
  mapping: {
    target: "client",
    external_id: "sender.id",
    fields: { name: "sender.login", source: { value: "github" }, status: { value: "active" }, "custom_fields.github_event_action": "action" },
  },
};

const genericClient: PresetMapping = {
  label: "JSON → client",
  mapping: {
    target: "client",
    external_id: "id",
    fields: { name: "name", email: { from: "email", transform: "lower" }, phone: "phone", source: { value: "webhook" } },
  },
};

export const PRESETS: Record<InboundKind, KindPreset> = {
  hmac_sha256_hex: { label: "Generic HMAC (hex)", secret: "generated", lead: false, mappings: [] },
  shopify: { label: "Shopify-style HMAC (base64)", secret: "generated", lead: false, mappings: [] },
  standard_webhooks: { label: "Standard Webhooks", secret: "generated", lead: false, mappings: [] },
  google_ads_leads: { label: "Google Ads lead form", secret: "generated", lead: true, mappings: [] },
  meta_lead_ads: { label: "Meta (Facebook/Instagram) Lead Ads", secret: "provided", lead: true, mappings: [] },
  stripe: { label: "Stripe", secret: "provided", lead: false, mappings: [stripeCustomer, stripeInvoice] },
  github: { label: "GitHub", secret: "either", lead: false, mappings: [githubClient] },
  typeform: { label: "Typeform", secret: "either", lead: false, mappings: [typeformLead] },
  calendly: { label: "Calendly", secret: "provided", lead: false, mappings: [calendlyBooking] },
  basic_auth: { label: "HTTP basic auth", secret: "generated", lead: false, mappings: [genericClient] },
  header_secret: { label: "Secret header", secret: "generated", lead: false, mappings: [genericClient] },
};

/** The mapping a source of this kind starts with when the create body has none. */
export const defaultMapping = (kind: InboundKind): Record<string, unknown> | undefined => PRESETS[kind].mappings[0]?.mapping;
