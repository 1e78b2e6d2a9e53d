import { resetEnvCache } from "@/lib/env";

/**
 * Lets webhooks and connectors reach 127.0.0.1 for this test file (the SSRF guard refuses it
 * otherwise). Returns the undo, for afterAll.
 */
export function allowPrivateUrls(extra: Record<string, string> = {}): () => void {
  const vars = { SMARFLE_ALLOW_PRIVATE_URLS: "1", ...extra };
  Object.assign(process.env, vars);
  resetEnvCache();
  return () => {
    for (const k of Object.keys(vars)) delete process.env[k];
    resetEnvCache();
  };
}
