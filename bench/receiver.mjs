/**
 * The benchmark's webhook receiver, in a process of its own: a receiver is someone else's
 * server, so its request parsing must not be charged to the worker's event loop. It counts what
 * arrives and reports to the parent over IPC every 10 ms:
 *   /hook/*              counted; with latency on, commit → receipt from the body's created_at
 *   /order/<ordering>    counted apart; /order/per_record checks each record's version rises
 * Commands from the parent: { cmd: "reset" } and { cmd: "latency", on } (each answered with
 * { ack: id } once applied, so no report from before it is mistaken for one after).
 */
import http from "node:http";

let received = 0;
let orderReceived = 0;
let orderViolations = 0;
let measureLatency = false;
let latencies = [];
const lastVersion = new Map();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url?.startsWith("/order/")) {
      orderReceived++;
      if (req.url === "/order/per_record") {
        const data = JSON.parse(Buffer.concat(chunks).toString()).data;
        if ((lastVersion.get(data.id) ?? 0) >= data.version) orderViolations++;
        lastVersion.set(data.id, data.version);
      }
    } else {
      received++;
      if (measureLatency) latencies.push(Date.now() - Date.parse(JSON.parse(Buffer.concat(chunks).toString()).created_at));
    }
    res.end("ok");
  });
});
server.keepAliveTimeout = 10_000;

const report = () => {
  process.send?.({ received, orderReceived, orderViolations, latencies });
  latencies = [];
};

process.on("message", (m) => {
  report();
  if (m.cmd === "reset") {
    received = 0;
    orderReceived = 0;
    orderViolations = 0;
    lastVersion.clear();
  } else if (m.cmd === "latency") {
    measureLatency = m.on;
  }
  report();
  process.send?.({ ack: m.id });
});
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
  setInterval(report, 10).unref();
});
