// A local stand-in for QStash (v2), speaking what @upstash/qstash sends and what its Receiver
// verifies:
//   POST   /v2/publish/<destination>    → 201 {"messageId"}   (headers below)
//   POST   /v2/schedules/<destination>  → 201 {"scheduleId"}  (Upstash-Cron, Upstash-Schedule-Id: upsert)
//   GET    /v2/schedules, GET|DELETE /v2/schedules/<id>
// Publish headers honoured: Upstash-Delay ("10s", "5m", "1h30m", "2d"), Upstash-Not-Before (Unix
// seconds), Upstash-Retries, Upstash-Deduplication-Id (a repeat within 10 minutes is accepted and
// not delivered again), Upstash-Flow-Control-Key/-Value (parallelism=N: at most N deliveries of a
// key at once), Upstash-Method, Upstash-Timeout, and Upstash-Forward-* (sent on without the prefix).
// Each delivery carries `Upstash-Signature`: an HS256 JWT signed with the current signing key
// (iss "Upstash", sub the destination URL, iat, nbf, exp = +5 min, jti, body = base64url SHA-256
// of the body), plus Upstash-Message-Id, Upstash-Retried and, for schedules, Upstash-Schedule-Id.
// A destination that does not answer 2xx in time is retried with QStash's backoff
// (e^(2.5·n) seconds, at most a day; `retryDelayMs` scales it for tests) until its retries are
// spent, then the message goes to the dead-letter list. Schedules fire on their cron in UTC
// (minute, hour, day of month, month, day of week; `*`, lists, ranges and `/step`).
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { SignJWT } from "jose";

const MAX_BODY_BYTES = 1024 * 1024;
const DEDUPLICATION_WINDOW_MS = 10 * 60_000;
const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 5;
const DEFAULT_TIMEOUT_MS = 30_000;

export const qstashBackoffMs = (retried) => Math.min(86_400, Math.exp(2.5 * retried)) * 1000;

/** "90s", "5m", "1h30m", "2d" → milliseconds; undefined when malformed. */
export function parseDuration(value) {
  if (!/^(\d+[smhd])+$/.test(value)) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let ms = 0;
  for (const [, n, u] of value.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * unit[u];
  return ms;
}

const CRON_FIELDS = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Parses a 5-field cron expression into one set of allowed values per field; throws if malformed. */
export function parseCron(expression) {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error("a cron expression has 5 fields");
  return fields.map((field, i) => {
    const [min, max] = CRON_FIELDS[i];
    const allowed = new Set();
    for (const part of field.split(",")) {
      const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
      if (!m) throw new Error(`bad cron field "${field}"`);
      const [from, to] = m[1] === "*" ? [min, max] : m[1].includes("-") ? m[1].split("-").map(Number) : [Number(m[1]), m[2] ? max : Number(m[1])];
      const step = m[2] ? Number(m[2]) : 1;
      if (from < min || to > max || from > to || step < 1) throw new Error(`bad cron field "${field}"`);
      for (let v = from; v <= to; v += step) allowed.add(i === 4 && v === 7 ? 0 : v);
    }
    return allowed;
  });
}

/** Whether a parsed cron expression fires in `date`'s UTC minute (day of month OR day of week when both are set, as cron does). */
export function cronMatches(fields, date) {
  const [minute, hour, dom, month, dow] = fields;
  const domAny = dom.size === 31;
  const dowAny = dow.size === 7;
  const dayOk = domAny || dowAny ? dom.has(date.getUTCDate()) && dow.has(date.getUTCDay()) : dom.has(date.getUTCDate()) || dow.has(date.getUTCDay());
  return minute.has(date.getUTCMinutes()) && hour.has(date.getUTCHours()) && month.has(date.getUTCMonth() + 1) && dayOk;
}

/**
 * Starts the stand-in on 127.0.0.1. Resolves to `{ url, token, messages, schedules, dlq, close() }`:
 * `messages` records every accepted message with each delivery attempt's status.
 * @param {{ token: string, currentSigningKey: string, nextSigningKey: string, port?: number,
 *   retryDelayMs?: (retried: number) => number, timeoutMs?: number }} options
 */
export async function startQstash({ token, currentSigningKey, nextSigningKey, port = 0, retryDelayMs = qstashBackoffMs, timeoutMs = DEFAULT_TIMEOUT_MS }) {
  if (!token || !currentSigningKey || !nextSigningKey) throw new Error("startQstash needs a token and both signing keys");
  const messages = [];
  const schedules = new Map();
  const dlq = [];
  const deduplicated = new Map(); // deduplication id → { messageId, at }
  const inFlight = new Map(); // flow-control key → deliveries running
  const waiting = new Map(); // flow-control key → messages waiting for a slot
  const timers = new Set();
  let closed = false;

  const later = (ms, fn) => {
    const t = setTimeout(
      () => {
        timers.delete(t);
        if (!closed) fn();
      },
      Math.max(0, ms),
    );
    timers.add(t);
  };

  async function sign(destination, body) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ body: createHash("sha256").update(body).digest("base64url") })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("Upstash")
      .setSubject(destination)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .setJti(`jwt_${randomUUID().replaceAll("-", "")}`)
      .sign(new TextEncoder().encode(currentSigningKey));
  }

  function release(message) {
    if (!message.flowKey) return;
    inFlight.set(message.flowKey, (inFlight.get(message.flowKey) ?? 1) - 1);
    const queue = waiting.get(message.flowKey);
    const next = queue?.shift();
    if (next) deliver(next);
  }

  async function deliver(message) {
    if (closed) return;
    if (message.flowKey) {
      const running = inFlight.get(message.flowKey) ?? 0;
      if (running >= message.parallelism) {
        if (!waiting.has(message.flowKey)) waiting.set(message.flowKey, []);
        waiting.get(message.flowKey).push(message);
        return;
      }
      inFlight.set(message.flowKey, running + 1);
    }
    const retried = message.attempts.length;
    const attempt = { at: Date.now(), status: null, error: null };
    message.attempts.push(attempt);
    try {
      const headers = {
        ...message.forward,
        "content-type": message.contentType,
        "upstash-signature": await sign(message.destination, message.body),
        "upstash-message-id": message.messageId,
        "upstash-retried": String(retried),
        "user-agent": "Upstash-QStash",
      };
      if (message.scheduleId) headers["upstash-schedule-id"] = message.scheduleId;
      const res = await fetch(message.destination, {
        method: message.method,
        headers,
        body: message.method === "GET" || message.method === "HEAD" ? undefined : message.body,
        signal: AbortSignal.timeout(message.timeoutMs),
      });
      attempt.status = res.status;
      await res.arrayBuffer().catch(() => {});
    } catch (err) {
      attempt.error = err instanceof Error ? err.message : String(err);
    }
    release(message);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      message.state = "delivered";
    } else if (retried < message.retries) {
      message.state = "retry";
      later(retryDelayMs(retried + 1), () => deliver(message));
    } else {
      message.state = "failed";
      dlq.push(message);
    }
  }

  /** Reads the QStash headers shared by publish and schedules; throws a message for a 400. */
  function options(req) {
    const h = req.headers;
    const forward = {};
    for (const [name, value] of Object.entries(h)) {
      if (name.startsWith("upstash-forward-") && typeof value === "string") forward[name.slice("upstash-forward-".length)] = value;
    }
    const retries = h["upstash-retries"] === undefined ? DEFAULT_RETRIES : Number(h["upstash-retries"]);
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) throw new Error(`invalid Upstash-Retries, must be between 0 and ${MAX_RETRIES}`);
    let delayMs = 0;
    if (h["upstash-delay"] !== undefined) {
      delayMs = parseDuration(String(h["upstash-delay"]));
      if (delayMs === undefined) throw new Error("invalid Upstash-Delay");
    }
    if (h["upstash-not-before"] !== undefined) {
      const at = Number(h["upstash-not-before"]) * 1000;
      if (!Number.isFinite(at)) throw new Error("invalid Upstash-Not-Before");
      delayMs = Math.max(0, at - Date.now());
    }
    let timeout = timeoutMs;
    if (h["upstash-timeout"] !== undefined) {
      timeout = parseDuration(String(h["upstash-timeout"]));
      if (timeout === undefined) throw new Error("invalid Upstash-Timeout");
    }
    let flowKey;
    let parallelism = Infinity;
    if (h["upstash-flow-control-key"]) {
      flowKey = String(h["upstash-flow-control-key"]);
      const p = /parallelism=(\d+)/.exec(String(h["upstash-flow-control-value"] ?? ""))?.[1];
      if (p === undefined) throw new Error("Upstash-Flow-Control-Value needs parallelism=N");
      parallelism = Number(p);
    }
    const method = String(h["upstash-method"] ?? "POST").toUpperCase();
    return { forward, retries, delayMs, timeoutMs: timeout, flowKey, parallelism, method, contentType: String(h["content-type"] ?? "text/plain") };
  }

  function enqueue(destination, body, opts, scheduleId) {
    const message = {
      messageId: `msg_${randomUUID().replaceAll("-", "")}`,
      destination,
      body,
      ...opts,
      scheduleId,
      createdAt: Date.now(),
      attempts: [],
      state: "created",
    };
    messages.push(message);
    later(opts.delayMs, () => deliver(message));
    return message;
  }

  /** The destination URL after the route's prefix, query string included; undefined if not http(s). */
  function destinationOf(requestUrl, prefix) {
    const raw = decodeURIComponent(requestUrl.slice(prefix.length));
    try {
      const u = new URL(raw);
      return u.protocol === "http:" || u.protocol === "https:" ? raw : undefined;
    } catch {
      return undefined;
    }
  }

  function fireSchedules() {
    const now = new Date();
    for (const s of schedules.values()) {
      if (s.isPaused || !cronMatches(s.fields, now)) continue;
      s.lastScheduleTime = now.getTime();
      enqueue(s.destination, s.body, s.opts, s.scheduleId);
    }
    later(60_000 - (Date.now() % 60_000) + 5, fireSchedules);
  }
  later(60_000 - (Date.now() % 60_000) + 5, fireSchedules);

  const tokenBytes = Buffer.from(token);
  const authorized = (req) => {
    const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "");
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const send = (status, payload) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(payload === undefined ? "" : JSON.stringify(payload));
      };
      if (!authorized(req)) return send(401, { error: "unauthorized" });
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        if (req.method === "POST" && url.pathname.startsWith("/v2/publish/")) {
          const destination = destinationOf(req.url, "/v2/publish/");
          if (!destination) return send(400, { error: "invalid destination url" });
          const opts = options(req);
          const dedupId = req.headers["upstash-deduplication-id"];
          if (dedupId) {
            const seen = deduplicated.get(dedupId);
            if (seen && Date.now() - seen.at < DEDUPLICATION_WINDOW_MS) return send(201, { messageId: seen.messageId, deduplicated: true });
          }
          const message = enqueue(destination, body, opts);
          if (dedupId) deduplicated.set(dedupId, { messageId: message.messageId, at: Date.now() });
          return send(201, { messageId: message.messageId });
        }
        if (req.method === "POST" && url.pathname.startsWith("/v2/schedules/")) {
          const destination = destinationOf(req.url, "/v2/schedules/");
          if (!destination) return send(400, { error: "invalid destination url" });
          const cron = String(req.headers["upstash-cron"] ?? "");
          let fields;
          try {
            fields = parseCron(cron);
          } catch (err) {
            return send(400, { error: `invalid Upstash-Cron: ${err.message}` });
          }
          const scheduleId = String(req.headers["upstash-schedule-id"] ?? `scd_${randomUUID().replaceAll("-", "")}`);
          const previous = schedules.get(scheduleId);
          schedules.set(scheduleId, {
            scheduleId,
            cron,
            fields,
            destination,
            body,
            opts: options(req),
            createdAt: previous?.createdAt ?? Date.now(),
            isPaused: false,
          });
          return send(201, { scheduleId });
        }
        if (req.method === "GET" && url.pathname === "/v2/schedules") {
          return send(200, [...schedules.values()].map(scheduleView));
        }
        const one = /^\/v2\/schedules\/([^/]+)$/.exec(url.pathname);
        if (one && req.method === "GET") {
          const s = schedules.get(decodeURIComponent(one[1]));
          return s ? send(200, scheduleView(s)) : send(404, { error: "schedule not found" });
        }
        if (one && req.method === "DELETE") {
          schedules.delete(decodeURIComponent(one[1]));
          return send(200);
        }
        return send(404, { error: "not found" });
      } catch (err) {
        return send(400, { error: err instanceof Error ? err.message : String(err) });
      }
    });
  });

  function scheduleView(s) {
    return {
      scheduleId: s.scheduleId,
      cron: s.cron,
      destination: s.destination,
      method: s.opts.method,
      body: s.body || undefined,
      retries: s.opts.retries,
      createdAt: s.createdAt,
      lastScheduleTime: s.lastScheduleTime,
      isPaused: s.isPaused,
    };
  }

  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    messages,
    schedules,
    dlq,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
