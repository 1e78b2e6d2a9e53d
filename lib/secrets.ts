import "server-only";
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { env, missingSecretMessage } from "@/lib/env";

/**
 * For the embedded default only: a secret generated once and kept under .data/ (git-ignored),
 * so `npm run dev` works with no configuration and sessions survive restarts.
 */
export function persistentSecret(name: string, variable: string): string {
  const e = env();
  // Several production servers on one database must share their secrets: never generate one there.
  if (e.NODE_ENV === "production" && e.DATABASE_URL) throw new Error(missingSecretMessage(variable));
  const file = path.join(process.cwd(), ".data", name);
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const value = randomBytes(32).toString("base64");
    try {
      fs.writeFileSync(file, value, { flag: "wx", mode: 0o600 });
      return value;
    } catch {
      // Another process wrote it first.
      return fs.readFileSync(file, "utf8").trim();
    }
  }
}
