// Shared load-generation for the benchmarks: autocannon against 127.0.0.1 only, with a warm-up,
// bounded in time; results printed as a table.
import autocannon from "autocannon";

/** `idReplacement`: each `[<id>]` in the body becomes a fresh id on every request. */
export function load({ url, headers = {}, method = "GET", body, connections = 50, duration = 10, idReplacement = false }) {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`benchmarks target 127.0.0.1 only, not ${url}`);
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, method, body, connections, duration, pipelining: 1, idReplacement }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

export async function measure(name, options, { warmup = 3, duration = 10 } = {}) {
  await load({ ...options, duration: warmup });
  const r = await load({ ...options, duration });
  const non2xx = r.non2xx + r.errors + r.timeouts;
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx };
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
