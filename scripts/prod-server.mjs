// Helpers shared by the browser tests and the benchmarks: build the app, migrate, start the
// production server on 127.0.0.1 exactly as `npm start` does (server.mjs, with the start script's
// Node flags) and stop it again. It is started as `node <flags> server.mjs` so its pid is the
// server's own.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = path.join(root, "node_modules/next/dist/bin/next");
const smarfleBin = path.join(root, "bin/smarfle.mjs");
const serverScript = path.join(root, "server.mjs");
/** Node's own flags from the `start` script (`node <flags> server.mjs`), so the server runs as `npm start` runs it. */
const startFlags = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
  .scripts.start.split(/\s+/)
  .filter((a) => a.startsWith("--"));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function must(cmd, args, env, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: options.capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(" ")} exited with ${r.status}`);
  return r.stdout;
}

export function build(env) {
  must(process.execPath, [nextBin, "build"], env);
}

/** Runs the operator CLI; with --json its output is parsed. */
export function smarfle(env, ...args) {
  const out = must(process.execPath, [smarfleBin, ...args], env, { capture: true });
  return args.includes("--json") ? JSON.parse(out) : out;
}

async function waitFor(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer at ${url} within ${timeoutMs} ms`);
}

/** Starts the production server (server.mjs, what `npm start` runs); the log goes to `logFile`. Resolves once it answers HTTP. */
export async function startServer(env, { port, logFile, readyPath = "/" }) {
  const child = spawn(process.execPath, [...startFlags, serverScript, "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = fs.createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const exited = new Promise((r) => child.once("exit", r));
    // A graceful shutdown lets in-flight webhook attempts finish (up to 15 s each).
    const timeout = new Promise((r) => setTimeout(r, 20_000, "timeout"));
    if ((await Promise.race([exited, timeout])) === "timeout") child.kill("SIGKILL");
  };
  try {
    await waitFor(`${url}${readyPath}`, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, child, stop };
}

/**
 * Starts one production server per name on one configuration (a fleet sharing a database), each on
 * a free port with its log in `dir/<name>.log`. If one fails to start, those already up are
 * stopped.
 */
export async function startServers(env, names, dir, readyPath = "/api/health") {
  const servers = [];
  try {
    for (const name of names) {
      const port = await freePort();
      servers.push(await startServer({ ...env, PORT: String(port) }, { port, logFile: path.join(dir, `${name}.log`), readyPath }));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return servers;
}
