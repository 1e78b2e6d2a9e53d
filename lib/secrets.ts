import "server-only";
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/**
 * For the embedded default only: a secret generated once and kept under .data/ (git-ignored),
 * so `npm run dev` works with no configuration and sessions survive restarts.
 */
export function persistentSecret(name: string): string {
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
