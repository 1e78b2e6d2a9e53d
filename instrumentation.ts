/**
 * Runs once per server process. Starts the background work (webhook delivery worker, connector
 * scheduler, interrupted imports) in the Node.js runtime only, and never while `next build`
 * collects pages. The literal `process.env.NEXT_RUNTIME` check lets the edge build drop the import.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs" && process.env.NEXT_PHASE !== "phase-production-build") {
    const { checkStartup } = await import("./lib/startup");
    checkStartup();
    const { startBackground } = await import("./lib/background");
    await startBackground();
  }
}
