import "server-only";
import http from "node:http";
import https from "node:https";
import { assertSafeUrl, outboundAgent } from "@/lib/net/guard";

export const CONNECTOR_TIMEOUT_MS = 30_000;
export const CONNECTOR_MAX_BYTES = 10 * 1024 * 1024;

/**
 * GET a JSON page from a connector's source, through the SSRF guard (checked before and at
 * connect time). Redirects are not followed; bodies over 10 MB are refused.
 */
export async function fetchJson(rawUrl: string, headers: Record<string, string>, signal?: AbortSignal, timeoutMs = CONNECTOR_TIMEOUT_MS): Promise<unknown> {
  const url = await assertSafeUrl(rawUrl);
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request(url, {
      method: "GET",
      agent: outboundAgent(url),
      headers: { accept: "application/json", "user-agent": "Smarfle-Connector/1.0", ...headers },
    });
    // The run's budget ran out: the request in flight is abandoned with the budget's reason.
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("the run was stopped"));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => signal?.removeEventListener("abort", onAbort));
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > CONNECTOR_MAX_BYTES) req.destroy(new Error("response larger than 10 MB"));
        else chunks.push(c);
      });
      res.on("end", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new Error(`source answered ${status}${text ? `: ${text.slice(0, 200)}` : ""}`));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`source answered ${status} with a body that is not JSON`));
        }
      });
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(err.code === "ECONNREFUSED" ? "connection refused" : err.message));
    });
    req.end();
  });
}
