import "server-only";
import { env, EnvError, missingProductionSecret, missingSecretMessage } from "@/lib/env";

/**
 * Runs as the server starts (instrumentation.ts): a malformed environment, or a production server
 * on a shared database without its shared secrets, stops it with a message naming the variable.
 */
export function checkStartup(): void {
  try {
    const missing = missingProductionSecret(env());
    if (missing) {
      console.error(`Refusing to start: ${missingSecretMessage(missing)}`);
      process.exit(1);
    }
  } catch (err) {
    if (err instanceof EnvError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
