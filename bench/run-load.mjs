// Shared load-generation for the benchmarks: autocannon against 127.0.0.1 only, with a warm-up,
// bounded in time; results printed as a table.
import http from "node:http";
import autocannon from "autocannon";

/** `idReplacement`: each `[<id>]` in the body becomes a fresh id on every request. */
export function load({ url, headers = {}, method = "GET", body, connections = 50, duration = 10, idReplacement = false }) {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`benchmarks target 127.0.0.1 only, not ${url}`);
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, method, body, connections, duration, pipelining: 1, idReplacement }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Open-loop load: one request every 1/rate s, evenly spaced, whether or not earlier ones were
 * answered (autocannon's rate limit sends each second's share in a burst, which queues like
 * saturation). Latency is then what a request takes at that arrival rate. `[<id>]` in the body
 * becomes a fresh id per request.
 */
export async function steady({ url, headers = {}, method = "POST", body, rate, duration = 10 }) {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`benchmarks target 127.0.0.1 only, not ${url}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  const latencies = [];
  let failed = 0;
  let n = 0;
  const total = Math.round(rate * duration);
  const started = performance.now();
  const sends = [];
  const one = (id) =>
    new Promise((resolve) => {
      const t = performance.now();
      const req = http.request(url, { method, headers, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - t);
          if (res.statusCode < 200 || res.statusCode >= 300) failed++;
          resolve();
        });
      });
      req.on("error", () => {
        failed++;
        resolve();
      });
      req.end(body?.replaceAll("[<id>]", `s${id}`));
    });
  while (n < total) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(one(n++));
  }
  await Promise.all(sends);
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
  return { rate, requests: total, p50: at(0.5), p99: at(0.99), non2xx: failed };
}

export async function measure(name, options, { warmup = 3, duration = 10 } = {}) {
  await load({ ...options, duration: warmup });
  const r = await load({ ...options, duration });
  const non2xx = r.non2xx + r.errors + r.timeouts;
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx };
}

/**
 * The median of per-round figures: this machine's speed drifts by more than most differences a
 * benchmark measures, so rounds are repeated and their median reported.
 * @param {number[]} xs
 * @returns {number}
 */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function printTable(rows) {
  const cols = ["name", "rps", "p50", "p99", "requests", "non2xx"];
  const head = ["route", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"];
  const fmt = (row) => cols.map((c) => (typeof row[c] === "number" ? (Number.isInteger(row[c]) ? String(row[c]) : row[c].toFixed(1)) : String(row[c])));
  const lines = [head, ...rows.map(fmt)];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const [i, l] of lines.entries()) {
    console.log(l.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}
