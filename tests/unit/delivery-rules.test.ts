import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { DEFAULT_SCHEDULE, nextAttemptAt, parseRetryAfter } from "@/lib/webhooks/schedule";
import { decide } from "@/lib/webhooks/deliver";
import { isPublicAddress } from "@/lib/net/guard";
import { verifyInbound } from "@/lib/inbound/verify";

const t0 = new Date("2026-03-01T12:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const noJitter = () => 0.5; // random() = 0.5 → jitter 0

describe("the retry schedule", () => {
  it("spaces the six attempts at once, ~1 min, 5 min, 30 min, 2 h after the previous, and the last 24 h after the first", () => {
    const due = DEFAULT_SCHEDULE.map((_, i) => nextAttemptAt({ firstAttemptAt: t0, attemptsMade: i, now: t0, schedule: DEFAULT_SCHEDULE, random: noJitter }));
    expect(due.map((d) => (d!.getTime() - t0.getTime()) / 1000)).toEqual([0, 60, 360, 2160, 9360, 86_400]);
    expect(nextAttemptAt({ firstAttemptAt: t0, attemptsMade: 6, now: t0, schedule: DEFAULT_SCHEDULE })).toBeNull();
  });

  it("jitters each retry by at most 10 % of its gap", () => {
    for (const random of [() => 0, () => 0.999999]) {
      const d = nextAttemptAt({ firstAttemptAt: t0, attemptsMade: 2, now: t0, schedule: DEFAULT_SCHEDULE, random })!;
      const offset = (d.getTime() - t0.getTime()) / 1000;
      expect(Math.abs(offset - 360)).toBeLessThanOrEqual(30); // gap 300 s
    }
  });

  it("honours a receiver's Retry-After when it asks for longer than the schedule, and only then", () => {
    const longer = nextAttemptAt({ firstAttemptAt: t0, attemptsMade: 1, now: at(1), retryAfterSeconds: 600, schedule: DEFAULT_SCHEDULE, random: noJitter })!;
    expect((longer.getTime() - t0.getTime()) / 1000).toBe(601);
    const shorter = nextAttemptAt({ firstAttemptAt: t0, attemptsMade: 1, now: at(1), retryAfterSeconds: 5, schedule: DEFAULT_SCHEDULE, random: noJitter })!;
    expect((shorter.getTime() - t0.getTime()) / 1000).toBe(60);
  });

  it("never schedules an attempt in the past", () => {
    const late = nextAttemptAt({ firstAttemptAt: t0, attemptsMade: 1, now: at(5_000), schedule: DEFAULT_SCHEDULE, random: noJitter })!;
    expect(late.getTime()).toBe(at(5_000).getTime());
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates, caps them at a day, and ignores what it cannot read", () => {
    expect(parseRetryAfter("120", t0)).toBe(120);
    expect(parseRetryAfter(" 7 ", t0)).toBe(7);
    expect(parseRetryAfter(new Date(t0.getTime() + 90_000).toUTCString(), t0)).toBe(90);
    expect(parseRetryAfter("999999", t0)).toBe(86_400);
    expect(parseRetryAfter("0", t0)).toBeNull();
    expect(parseRetryAfter("-5", t0)).toBeNull();
    expect(parseRetryAfter("soon", t0)).toBeNull();
    expect(parseRetryAfter(new Date(t0.getTime() - 60_000).toUTCString(), t0)).toBeNull();
    expect(parseRetryAfter(null, t0)).toBeNull();
  });
});

describe("what an attempt's answer means", () => {
  const answer = (status: number | null, headers: Record<string, string> = {}, error: string | null = null) => ({ status, headers, error });

  it("a 2xx succeeds; a 410 unsubscribes; a redirect is a failure that says why", () => {
    expect(decide(answer(204), 1, t0, t0)).toEqual({ kind: "succeeded" });
    expect(decide(answer(410), 1, t0, t0)).toMatchObject({ kind: "gone" });
    expect(decide(answer(302), 1, t0, t0)).toMatchObject({ kind: "retry", error: expect.stringMatching(/redirect.*not followed/) });
  });

  it("a failure is retried on the schedule until the attempts run out", () => {
    const first = decide(answer(500), 1, t0, t0);
    expect(first).toMatchObject({ kind: "retry", error: "receiver answered 500" });
    expect(decide(answer(null, {}, "timed out after 15 s"), 6, t0, at(86_400))).toMatchObject({ kind: "failed", error: "timed out after 15 s" });
  });
});

describe("the SSRF guard's address check", () => {
  it("refuses loopback, private, link-local, metadata and unique-local addresses, also written as IPv4-mapped IPv6", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "fc00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "not-an-ip",
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
  it("lets public addresses through", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) expect(isPublicAddress(a), a).toBe(true);
  });
});

describe("inbound signature checks", () => {
  const body = '{"id":42,"email":"jo@example.com"}';
  const secret = "shpss_0123456789abcdef";
  const hmac = (key: string, data: string) => createHmac("sha256", Buffer.from(key, "utf8")).update(data, "utf8");

  it("generic HMAC: hex, with or without sha256=, refused when tampered or missing", () => {
    const hex = hmac(secret, body).digest("hex");
    expect(verifyInbound("hmac_sha256_hex", secret, new Headers({ "x-signature": hex }), body)).toEqual({ ok: true });
    expect(verifyInbound("hmac_sha256_hex", secret, new Headers({ "x-signature": `sha256=${hex.toUpperCase()}` }), body)).toEqual({ ok: true });
    expect(verifyInbound("hmac_sha256_hex", secret, new Headers({ "x-signature": hex }), body.replace("42", "43"))).toMatchObject({ ok: false });
    expect(verifyInbound("hmac_sha256_hex", secret, new Headers(), body)).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
  });

  it("Shopify: base64 of the HMAC, refused with another secret", () => {
    const b64 = hmac(secret, body).digest("base64");
    expect(verifyInbound("shopify", secret, new Headers({ "x-shopify-hmac-sha256": b64 }), body)).toEqual({ ok: true });
    expect(verifyInbound("shopify", "another-secret", new Headers({ "x-shopify-hmac-sha256": b64 }), body)).toMatchObject({ ok: false });
  });

  it("Standard Webhooks: as the standardwebhooks library signs, within 5 minutes only", () => {
    const whsec = `whsec_${Buffer.from("a-standard-webhooks-test-secret!").toString("base64")}`;
    const id = "msg_2b6J3Qm8";
    const signature = new Webhook(whsec).sign(id, t0, body);
    const headers = (ts: Date) =>
      new Headers({ "webhook-id": id, "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": `v1,bogus ${signature}` });
    expect(verifyInbound("standard_webhooks", whsec, headers(t0), body, at(60))).toEqual({ ok: true });
    expect(verifyInbound("standard_webhooks", whsec, headers(t0), body, at(301))).toMatchObject({ ok: false, reason: expect.stringMatching(/tolerance/) });
    expect(verifyInbound("standard_webhooks", whsec, headers(t0), `${body} `, at(1))).toMatchObject({ ok: false });
  });
});
