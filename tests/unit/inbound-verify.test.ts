import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { verifyInbound } from "@/lib/inbound/verify";
import { normalizePhone } from "@/lib/leads/identity";

const hex = (key: string, data: string) => createHmac("sha256", key).update(data).digest("hex");
const b64 = (key: string, data: string) => createHmac("sha256", key).update(data).digest("base64");
const now = new Date("2026-12-03T08:00:00Z");
const t = Math.floor(now.getTime() / 1000);
const h = (o: Record<string, string>) => new Headers(o);

describe("provider signature schemes", () => {
  it("GitHub: the worked example from GitHub's documentation, and a tampered body", () => {
    // Secret "It's a Secret to Everybody", payload "Hello, World!" (GitHub's published test values).
    const headers = h({ "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" });
    expect(verifyInbound("github", "It's a Secret to Everybody", headers, "Hello, World!")).toEqual({ ok: true });
    expect(verifyInbound("github", "It's a Secret to Everybody", headers, "Hello, World?")).toMatchObject({ ok: false });
    expect(verifyInbound("github", "It's a Secret to Everybody", h({}), "Hello, World!")).toMatchObject({
      ok: false,
      reason: "missing X-Hub-Signature-256 header",
    });
  });

  it("Stripe: t.body signed, 5-minute tolerance, any of several v1 (a secret being rolled)", () => {
    const secret = "whsec_test_secret_abc";
    const body = '{"id":"evt_1","type":"customer.created"}';
    const sig = (ts: number, key = secret) => hex(key, `${ts}.${body}`);
    expect(verifyInbound("stripe", secret, h({ "stripe-signature": `t=${t},v1=${sig(t)}` }), body, now)).toEqual({ ok: true });
    expect(verifyInbound("stripe", secret, h({ "stripe-signature": `t=${t},v1=${sig(t, "whsec_old")},v1=${sig(t)},v0=abc` }), body, now)).toEqual({ ok: true });
    expect(verifyInbound("stripe", secret, h({ "stripe-signature": `t=${t},v1=${sig(t)}` }), body.replace("evt_1", "evt_2"), now)).toMatchObject({ ok: false });
    expect(verifyInbound("stripe", secret, h({ "stripe-signature": `t=${t - 301},v1=${sig(t - 301)}` }), body, now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("tolerance"),
    });
    // The timestamp is signed: moving it forward breaks the signature.
    expect(verifyInbound("stripe", secret, h({ "stripe-signature": `t=${t},v1=${sig(t - 400)}` }), body, now)).toMatchObject({ ok: false });
  });

  it("Calendly: t.body signed, 3-minute tolerance", () => {
    const key = "calendly-signing-key";
    const body = '{"event":"invitee.created"}';
    expect(verifyInbound("calendly", key, h({ "calendly-webhook-signature": `t=${t},v1=${hex(key, `${t}.${body}`)}` }), body, now)).toEqual({ ok: true });
    expect(verifyInbound("calendly", key, h({ "calendly-webhook-signature": `t=${t - 181},v1=${hex(key, `${t - 181}.${body}`)}` }), body, now)).toMatchObject({
      ok: false,
    });
    expect(verifyInbound("calendly", key, h({ "calendly-webhook-signature": `t=${t},v1=${hex("other", `${t}.${body}`)}` }), body, now)).toMatchObject({
      ok: false,
    });
  });

  it("Typeform: sha256= and a base64 digest", () => {
    const body = '{"event_type":"form_response"}';
    expect(verifyInbound("typeform", "tf-secret", h({ "typeform-signature": `sha256=${b64("tf-secret", body)}` }), body)).toEqual({ ok: true });
    expect(verifyInbound("typeform", "tf-secret", h({ "typeform-signature": b64("tf-secret", body) }), body)).toMatchObject({ ok: false });
    expect(verifyInbound("typeform", "tf-secret", h({ "typeform-signature": `sha256=${b64("tf-secret", `${body} `)}` }), body)).toMatchObject({ ok: false });
  });

  it("Meta: X-Hub-Signature-256 with the app secret", () => {
    const body = '{"object":"page","entry":[]}';
    expect(verifyInbound("meta_lead_ads", "app-secret", h({ "x-hub-signature-256": `sha256=${hex("app-secret", body)}` }), body)).toEqual({ ok: true });
    expect(verifyInbound("meta_lead_ads", "app-secret", h({ "x-hub-signature-256": `sha256=${hex("other", body)}` }), body)).toMatchObject({ ok: false });
  });

  it("basic auth, a secret header and Google's google_key: the secret compared whole", () => {
    const basic = (user: string, pass: string) => h({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` });
    expect(verifyInbound("basic_auth", "insec_pw", basic("anyone", "insec_pw"), "{}")).toEqual({ ok: true });
    expect(verifyInbound("basic_auth", "insec_pw", basic("anyone", "insec_p"), "{}")).toMatchObject({ ok: false });
    expect(verifyInbound("basic_auth", "insec_pw", h({}), "{}")).toMatchObject({ ok: false });
    expect(verifyInbound("header_secret", "insec_x", h({ "x-webhook-secret": "insec_x" }), "{}")).toEqual({ ok: true });
    expect(verifyInbound("header_secret", "insec_x", h({ "x-webhook-secret": "insec_xx" }), "{}")).toMatchObject({ ok: false });
    expect(verifyInbound("google_ads_leads", "insec_g", h({}), '{"google_key":"insec_g"}')).toEqual({ ok: true });
    expect(verifyInbound("google_ads_leads", "insec_g", h({}), '{"google_key":"insec_"}')).toMatchObject({ ok: false });
    expect(verifyInbound("google_ads_leads", "insec_g", h({}), "not json")).toMatchObject({ ok: false });
  });
});

describe("phone numbers", () => {
  it("normalizes to E.164 with the default country, and keeps digits when it cannot place them", () => {
    expect(normalizePhone("020 7946 0958", "GB")).toBe("+442079460958");
    expect(normalizePhone("+44 (0)20-7946-0958", null)).toBe("+442079460958");
    expect(normalizePhone("(415) 555-0132", "US")).toBe("+14155550132");
    expect(normalizePhone("415.555.0132", null)).toBe("4155550132");
    expect(normalizePhone("12", "US")).toBeNull();
  });
});
