import "server-only";
import { headers } from "next/headers";
import { env } from "@/lib/env";

/** The app's public base URL for copy-paste examples: APP_URL, else the host the page was served from. */
export async function appBaseUrl(): Promise<string> {
  const configured = env().APP_URL;
  if (configured) return configured.replace(/\/$/, "");
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "localhost:3000";
  const proto = h.get("x-forwarded-proto") ?? (host.startsWith("localhost") || host.startsWith("127.") ? "http" : "https");
  return `${proto}://${host}`;
}
