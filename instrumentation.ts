/**
 * Runs once per server process. Starts the background work (webhook delivery worker, connector
 * scheduler, interrupted imports) and registers the routes the production server answers itself,
 * in the Node.js runtime only, and never while `next build` collects pages. The literal `process.env.NEXT_RUNTIME` check lets the edge build drop the import.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs" && process.env.NEXT_PHASE !== "phase-production-build") {
    const { checkStartup } = await import("./lib/startup");
    checkStartup();
    const { startBackground } = await import("./lib/background");
    await startBackground();
    // Production's server.mjs answers these paths by calling their route handlers directly
    // (server/direct.mjs). The benchmark's baseline is served that way too under a path of its
    // own, beside its Next.js route (both answer 404 without SMARFLE_BENCH=1).
    const [{ registerDirectRoutes }, leads, benchLead] = await Promise.all([
      import("./server/direct.mjs"),
      import("./app/api/webhook/leads/route"),
      import("./app/api/bench/lead/route"),
    ]);
    registerDirectRoutes({ "/api/webhook/leads": leads, "/api/bench/lead-direct": benchLead });
  }
}
