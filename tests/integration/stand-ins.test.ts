import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Client, Receiver } from "@upstash/qstash";
import { createRateLimiter } from "@/lib/rate-limit";
import { startUpstashRedis } from "../stand-ins/upstash-redis.mjs";
import { cronMatches, parseCron, startQstash } from "../stand-ins/qstash.mjs";
import { startReceiver } from "../helpers/receiver";

/**
 * The local stand-ins for Upstash Redis (REST) and QStash, driven by the official clients: what
 * the serverless browser test relies on them to do, they are shown to do here.
 */
const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)("Upstash Redis REST stand-in, through @upstash/redis", () => {
  const token = `tok_${randomUUID()}`;
  let standIn: Awaited<ReturnType<typeof startUpstashRedis>>;
  let redis: Redis;
  const prefix = `standin:${randomUUID()}`;

  beforeAll(async () => {
    standIn = await startUpstashRedis({ redisUrl, token });
    redis = new Redis({ url: standIn.url, token, enableTelemetry: false });
  });
  afterAll(async () => {
    await redis.del(`${prefix}:text`, `${prefix}:n`, `${prefix}:a`, `${prefix}:b`);
    await standIn.close();
  });

  it("runs commands with base64-encoded answers, pipelines and transactions", async () => {
    expect(await redis.set(`${prefix}:text`, "héllo ✓ wörld")).toBe("OK");
    expect(await redis.get(`${prefix}:text`)).toBe("héllo ✓ wörld");
    expect(await redis.incr(`${prefix}:n`)).toBe(1);
    expect(await redis.get(`${prefix}:missing`)).toBeNull();

    const p = redis.pipeline();
    p.set(`${prefix}:a`, "1");
    p.incrby(`${prefix}:a`, 4);
    p.get(`${prefix}:a`);
    expect(await p.exec()).toEqual(["OK", 5, 5]);

    const tx = redis.multi();
    tx.set(`${prefix}:b`, "x");
    tx.append(`${prefix}:b`, "yz");
    tx.get(`${prefix}:b`);
    expect(await tx.exec()).toEqual(["OK", 3, "xyz"]);

    // A failing command answers {"error": …}, which the client raises.
    await expect(redis.incr(`${prefix}:b`)).rejects.toThrow(/not an integer/);
  });

  it("accepts Upstash-only script flags and answers EVALSHA by the client's own hash", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])";
    const sha = await redis.scriptLoad(script);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await redis.evalsha(sha, [`${prefix}:n`], [10])).toBe(11);
    expect(await redis.eval(script, [`${prefix}:n`], [1])).toBe(12);
    expect(await redis.scriptExists(sha)).toEqual([1]);
  });

  it("refuses a wrong token", async () => {
    const intruder = new Redis({ url: standIn.url, token: "not-the-token", enableTelemetry: false, retry: false });
    await expect(intruder.get(`${prefix}:text`)).rejects.toThrow(/Unauthorized/);
  });

  it("carries the app's rate limiter: exactly the limit passes, Redis decides", async () => {
    const limiter = await createRateLimiter({ upstash: { url: standIn.url, token }, ephemeralCache: false });
    expect(limiter.backend).toBe("upstash");
    const id = `standin-${randomUUID()}`;
    const before = standIn.stats.commands;
    const results = await Promise.all(Array.from({ length: 100 }, () => limiter.limit(id, 60)));
    expect(results.filter((r) => r.success)).toHaveLength(60);
    expect(results.some((r) => r.degraded)).toBe(false);
    expect(standIn.stats.commands - before).toBeGreaterThanOrEqual(100);
    await limiter.close();
  });
});

describe("QStash stand-in, through @upstash/qstash", () => {
  const token = `qst_${randomUUID()}`;
  const currentSigningKey = `sig_${randomUUID()}`;
  const nextSigningKey = `sig_${randomUUID()}`;
  let standIn: Awaited<ReturnType<typeof startQstash>>;
  let client: Client;
  const receiverCheck = new Receiver({ currentSigningKey, nextSigningKey });

  beforeAll(async () => {
    // Backoff scaled down from QStash's e^(2.5n) seconds, so a retry shows within the test.
    standIn = await startQstash({ token, currentSigningKey, nextSigningKey, retryDelayMs: (n: number) => n * 300 });
    client = new Client({ token, baseUrl: standIn.url });
  });
  afterAll(async () => {
    await standIn.close();
  });

  it("delivers after the delay, signed as QStash signs, with forwarded headers", async () => {
    const receiver = await startReceiver();
    try {
      const sent = Date.now();
      const { messageId } = await client.publishJSON({ url: receiver.url, body: { hello: "world" }, delay: 1, headers: { "X-Custom": "kept" } });
      await waitFor(() => receiver.received.length === 1);
      const got = receiver.received[0]!;
      expect(got.at - sent).toBeGreaterThanOrEqual(950);
      expect(JSON.parse(got.body)).toEqual({ hello: "world" });
      expect(got.headers["x-custom"]).toBe("kept");
      expect(got.headers["upstash-message-id"]).toBe(messageId);
      expect(got.headers["upstash-retried"]).toBe("0");
      expect(await receiverCheck.verify({ signature: got.headers["upstash-signature"]!, body: got.body, url: receiver.url })).toBe(true);
      // Signed for this body and this URL only.
      await expect(receiverCheck.verify({ signature: got.headers["upstash-signature"]!, body: "{}", url: receiver.url })).rejects.toThrow(/body hash/);
      await expect(receiverCheck.verify({ signature: got.headers["upstash-signature"]!, body: got.body, url: `${receiver.url}/other` })).rejects.toThrow(
        /subject/,
      );
    } finally {
      await receiver.close();
    }
  });

  it("retries a failing destination with backoff, then gives up into the dead-letter list", async () => {
    const receiver = await startReceiver((_req, n) => ({ status: n === 1 ? 503 : 200 }));
    const dead = await startReceiver(() => ({ status: 500 }));
    try {
      await client.publishJSON({ url: receiver.url, body: { n: 1 }, retries: 2 });
      await waitFor(() => receiver.received.length === 2);
      expect(receiver.received.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1"]);
      expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(250);

      const { messageId } = await client.publishJSON({ url: dead.url, body: { n: 2 }, retries: 1 });
      await waitFor(() => standIn.dlq.some((m: { messageId: string }) => m.messageId === messageId));
      expect(dead.received).toHaveLength(2);
    } finally {
      await receiver.close();
      await dead.close();
    }
  });

  it("drops a repeated deduplication id and keeps a flow-control key to its parallelism", async () => {
    let running = 0;
    let most = 0;
    const receiver = await startReceiver(() => {
      running++;
      most = Math.max(most, running);
      setTimeout(() => running--, 150);
      return { status: 200, delayMs: 150 };
    });
    try {
      const first = await client.publishJSON({ url: receiver.url, body: { d: 1 }, deduplicationId: `dup-${token}` });
      const again = await client.publishJSON({ url: receiver.url, body: { d: 1 }, deduplicationId: `dup-${token}` });
      expect(again.messageId).toBe(first.messageId);
      for (let i = 0; i < 4; i++) await client.publishJSON({ url: receiver.url, body: { i }, flowControl: { key: `fc-${token}`, parallelism: 1 } });
      await waitFor(() => receiver.received.length === 5);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received).toHaveLength(5);
      expect(most).toBeLessThanOrEqual(2); // the deduplicated message, and one of the flow-controlled key at a time
    } finally {
      await receiver.close();
    }
  });

  it("creates, lists and deletes schedules; refuses a bad cron and a wrong token", async () => {
    const { scheduleId } = await client.schedules.create({
      destination: "http://127.0.0.1:9/tick",
      cron: "*/5 * * * *",
      scheduleId: `sched-${token}`,
      retries: 0,
    });
    expect(scheduleId).toBe(`sched-${token}`);
    const listed = await client.schedules.list();
    expect(listed.find((s) => s.scheduleId === scheduleId)).toMatchObject({ cron: "*/5 * * * *", destination: "http://127.0.0.1:9/tick" });
    await client.schedules.delete(scheduleId);
    expect((await client.schedules.list()).some((s) => s.scheduleId === scheduleId)).toBe(false);
    await expect(client.schedules.create({ destination: "http://127.0.0.1:9/tick", cron: "every minute" })).rejects.toThrow(/cron/);
    await expect(new Client({ token: "wrong", baseUrl: standIn.url, retry: false }).publishJSON({ url: "http://127.0.0.1:9/x", body: {} })).rejects.toThrow();
  });

  it("reads cron expressions the way QStash does", () => {
    const [minute, hour, dom, month, dow] = parseCron("*/15 9-17 1,15 * 1-5");
    expect([...minute!]).toEqual([0, 15, 30, 45]);
    expect([...hour!]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect([...dom!]).toEqual([1, 15]);
    expect(month!.size).toBe(12);
    expect([...dow!]).toEqual([1, 2, 3, 4, 5]);
    const weekdays = parseCron("*/15 9-17 * * 1-5");
    expect(cronMatches(weekdays, new Date("2026-11-30T09:15:00Z"))).toBe(true); // a Monday
    expect(cronMatches(weekdays, new Date("2026-11-30T09:16:00Z"))).toBe(false);
    expect(cronMatches(weekdays, new Date("2026-11-29T09:15:00Z"))).toBe(false); // a Sunday
    expect(cronMatches(parseCron("* * * * *"), new Date())).toBe(true);
    expect(() => parseCron("61 * * * *")).toThrow();
    expect(() => parseCron("* * *")).toThrow();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
