// A local stand-in for Upstash Redis's REST API, in front of a real Redis. It speaks what
// @upstash/redis sends and expects:
//   POST /             body ["SET","k","v"]           → {"result":"OK"}
//   GET|POST /set/k/v  (path form; a POST body is the last argument)
//   POST /pipeline     body [["SET","k","v"],["GET","k"]] → [{"result":"OK"},{"result":"v"}]
//   POST /multi-exec   the same, run as MULTI … EXEC
//   errors             {"error":"ERR …"} with status 400; a bad token: 401
// `Authorization: Bearer <token>` (or `?_token=`) is required. With `Upstash-Encoding: base64`
// every string in a result is base64 (except a bare "OK"), as the client asks by default.
//
// Upstash accepts the `#!lua flags=allow-key-locking` line @upstash/ratelimit puts at the top
// of its scripts; Redis 7 refuses the flag. The stand-in drops that flag before the script
// reaches Redis and answers with, and accepts, the hash of the script as the client sent it, so
// EVALSHA/SCRIPT LOAD/SCRIPT EXISTS behave as they do on Upstash.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import IORedis from "ioredis";

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const sha1 = (s) => createHash("sha1").update(s).digest("hex");

/** Removes the one flag plain Redis refuses; drops the shebang line when nothing is left of it. */
function forRedis(script) {
  return script.replace(/^#!lua([^\n]*)\n/, (_line, rest) => {
    const flags = /flags=([^\s]*)/.exec(rest)?.[1];
    if (flags === undefined) return _line;
    const kept = flags.split(",").filter((f) => f && f !== "allow-key-locking");
    return kept.length ? `#!lua flags=${kept.join(",")}\n` : "";
  });
}

/** Upstash's JSON for one Redis reply: integers stay numbers, strings optionally base64. */
function encodeReply(value, base64, top = true) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (Buffer.isBuffer(value)) {
    const text = value.toString("utf8");
    if (!base64) return text;
    return top && text === "OK" ? "OK" : value.toString("base64");
  }
  if (Array.isArray(value)) return value.map((v) => encodeReply(v, base64, false));
  if (typeof value === "string") return base64 && !(top && value === "OK") ? Buffer.from(value).toString("base64") : value;
  return value;
}

/**
 * Starts the stand-in on 127.0.0.1 (a free port unless `port` is given) in front of `redisUrl`.
 * Resolves to `{ url, token, stats, close() }`; `stats` counts the HTTP requests and commands served.
 * @param {{ token: string, redisUrl?: string, port?: number }} options
 */
export async function startUpstashRedis({ redisUrl = "redis://127.0.0.1:6379", token, port = 0 }) {
  if (!token) throw new Error("startUpstashRedis needs a token");
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on("error", () => {}); // surfaced as failed commands
  const scripts = new Map(); // hash the client knows → hash Redis knows
  const stats = { requests: 0, commands: 0 };
  let syncToken = 0;

  /** Rewrites script commands so Redis gets scripts it accepts and hashes it knows. */
  async function translate(args) {
    const name = String(args[0]).toUpperCase();
    const rest = args.slice(1);
    if ((name === "EVAL" || name === "EVAL_RO") && rest.length >= 2) {
      const original = String(rest[0]);
      const script = forRedis(original);
      scripts.set(sha1(original), sha1(script));
      return { command: name, args: [script, ...rest.slice(1)] };
    }
    if ((name === "EVALSHA" || name === "EVALSHA_RO") && rest.length >= 2) {
      return { command: name, args: [scripts.get(String(rest[0]).toLowerCase()) ?? String(rest[0]), ...rest.slice(1)] };
    }
    if (name === "SCRIPT" && String(rest[0]).toUpperCase() === "LOAD" && rest.length === 2) {
      const original = String(rest[1]);
      const script = forRedis(original);
      await redis.call("SCRIPT", "LOAD", script);
      scripts.set(sha1(original), sha1(script));
      return { answer: Buffer.from(sha1(original)) };
    }
    if (name === "SCRIPT" && String(rest[0]).toUpperCase() === "EXISTS") {
      return { command: name, args: ["EXISTS", ...rest.slice(1).map((h) => scripts.get(String(h).toLowerCase()) ?? String(h))] };
    }
    return { command: name, args: rest.map((a) => (typeof a === "object" && a !== null ? JSON.stringify(a) : String(a))) };
  }

  async function run(args) {
    stats.commands++;
    const t = await translate(args);
    if ("answer" in t) return t.answer;
    return redis.callBuffer(t.command, ...t.args);
  }

  async function runBatch(commands, atomic) {
    const translated = await Promise.all(commands.map((c) => translate(c)));
    stats.commands += commands.length;
    const batch = atomic ? redis.multi() : redis.pipeline();
    const local = [];
    translated.forEach((t, i) => {
      if ("answer" in t) local[i] = t.answer;
      else batch.callBuffer(t.command, ...t.args);
    });
    const replies = (await batch.exec()) ?? [];
    let next = 0;
    return translated.map((t, i) => ("answer" in t ? [null, local[i]] : (replies[next++] ?? [new Error("ERR no reply"), null])));
  }

  const tokenBytes = Buffer.from(token);
  const authorized = (req, url) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? url.searchParams.get("_token") ?? "";
    const given = Buffer.from(bearer);
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };

  const server = http.createServer((req, res) => {
    stats.requests++;
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const send = (status, payload) => {
        res.writeHead(status, { "content-type": "application/json", "upstash-sync-token": String(++syncToken) });
        res.end(JSON.stringify(payload));
      };
      if (!authorized(req, url)) return send(401, { error: "Unauthorized" });
      const raw = Buffer.concat(chunks).toString("utf8");
      let body;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      try {
        if (req.method === "POST" && (url.pathname === "/pipeline" || url.pathname === "/multi-exec")) {
          if (!Array.isArray(body) || body.length === 0 || !body.every((c) => Array.isArray(c) && c.length > 0)) {
            return send(400, { error: "ERR the body must be a JSON array of commands" });
          }
          const replies = await runBatch(body, url.pathname === "/multi-exec");
          return send(
            200,
            replies.map(([err, value]) => (err ? { error: err.message } : { result: encodeReply(value, base64) })),
          );
        }
        let args;
        if (url.pathname === "/" || url.pathname === "") {
          if (req.method !== "POST" || !Array.isArray(body) || body.length === 0)
            return send(400, { error: "ERR the body must be a JSON array: a command and its arguments" });
          args = body;
        } else {
          args = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
          if (req.method === "POST" && raw) args.push(raw);
        }
        return send(200, { result: encodeReply(await run(args), base64) });
      } catch (err) {
        return send(400, { error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      redis.disconnect();
    },
  };
}
