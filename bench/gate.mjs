// What the API gate (key lookup by hash + sliding-window rate limit + usage counting) costs:
// GET /api/v1/me next to a bare route returning the same JSON, in the same production build,
// with real PostgreSQL and Redis. Targets: the gate adds < 1 ms at p50 and keeps >= 70 % of the
// bare route's throughput.
//
//   node bench/gate.mjs      (BENCH_SKIP_BUILD=1 reuses .next; DURATION, CONNECTIONS)
import { benchServer } from "./setup.mjs";
import { measure, printTable } from "./run-load.mjs";

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 50);
const bench = await benchServer({ scopes: "read" });
try {
  const bare = await measure("bare route (/api/bench/static)", { url: `${bench.url}/api/bench/static`, connections }, { duration });
  const gated = await measure(
    "GET /api/v1/me (gate)",
    { url: `${bench.url}/api/v1/me`, connections, headers: { authorization: `Bearer ${bench.key}` } },
    { duration },
  );
  // At saturation p50 is mostly queueing (connections / throughput); the gate's own cost shows
  // with one connection, where latency is service time.
  const bareOne = await measure("bare route, 1 connection", { url: `${bench.url}/api/bench/static`, connections: 1 }, { duration });
  const gatedOne = await measure(
    "GET /api/v1/me, 1 connection",
    { url: `${bench.url}/api/v1/me`, connections: 1, headers: { authorization: `Bearer ${bench.key}` } },
    { duration },
  );
  console.log(`\nAPI gate vs bare route — ${connections} connections, then 1, ${duration} s each after a warm-up, PostgreSQL + Redis\n`);
  printTable([bare, gated, bareOne, gatedOne]);
  console.log(`\nthroughput ratio (gate / bare), ${connections} connections: ${((gated.rps / bare.rps) * 100).toFixed(1)} %   (target >= 70 %)`);
  console.log(`p50 added by the gate, 1 connection:        ${(gatedOne.p50 - bareOne.p50).toFixed(2)} ms   (target < 1 ms; autocannon reports whole ms)`);
  console.log(
    `time per request added, 1 connection:       ${(1000 / gatedOne.rps - 1000 / bareOne.rps).toFixed(2)} ms   (from throughput: finer than the p50)`,
  );
  console.log(`p50 added by the gate, ${connections} connections:       ${(gated.p50 - bare.p50).toFixed(2)} ms   (queueing included)`);
  if (gated.non2xx > 0) console.log(`warning: ${gated.non2xx} non-2xx answers from the gated route`);
} finally {
  await bench.cleanup();
}
