import { createHash, randomUUID } from "node:crypto";
import { SignJWT } from "jose";

/** A request to `url` as QStash would send it: the body's hash and the URL in an HS256 JWT signed with `key`. */
export async function qstashRequest(url: string, body: string, key: string, signedUrl = url): Promise<Request> {
  const now = Math.floor(Date.now() / 1000);
  const bodyHash = createHash("sha256").update(body).digest("base64url");
  const jwt = await new SignJWT({ body: bodyHash })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("Upstash")
    .setSubject(signedUrl)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(key));
  return new Request(url, { method: "POST", body, headers: { "content-type": "application/json", "upstash-signature": jwt } });
}
