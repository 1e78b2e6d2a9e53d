import "server-only";
import http from "node:http";
import https from "node:https";
import { outboundAgent } from "./guard";

export interface HttpResult {
  status: number | null;
  headers: Record<string, string>;
  /** The first RESPONSE_SNIPPET_BYTES of the response. */
  body: string;
  error: string | null;
  durationMs: number;
}

export const RESPONSE_SNIPPET_BYTES = 4096;

/**
 * One POST through the SSRF-filtering keep-alive agent. Redirects are not followed (a 3xx is
 * the answer); the whole exchange is bounded by `timeoutMs`. Never throws.
 */
export function postJson(target: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<HttpResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: Math.round(performance.now() - started) });
    };
    const lib = target.protocol === "https:" ? https : http;
    const req = lib.request(target, {
      method: "POST",
      agent: outboundAgent(target),
      headers: { ...headers, "content-length": Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < RESPONSE_SNIPPET_BYTES) chunks.push(c.subarray(0, RESPONSE_SNIPPET_BYTES - size));
        size += c.length;
      });
      const done = () => {
        const headersOut: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headersOut[k] = Array.isArray(v) ? v.join(", ") : v;
        finish({ status: res.statusCode ?? null, headers: headersOut, body: printable(Buffer.concat(chunks).toString("utf8")), error: null });
      };
      res.on("end", done);
      res.on("error", (err) => finish({ status: res.statusCode ?? null, headers: {}, body: "", error: err.message }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => finish({ status: null, headers: {}, body: "", error: describeNetworkError(err) }));
    req.end(body);
  });
}

/**
 * PostgreSQL text cannot hold NUL: a receiver answering with one would make the whole batch of
 * attempts it is written with fail, again and again. It is logged as U+FFFD instead.
 */
const printable = (text: string) => (text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text);

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
      return "host not found";
    case "ECONNRESET":
      return "connection reset by the receiver";
    case "ETIMEDOUT":
      return "connection timed out";
    default:
      return err.message;
  }
}
