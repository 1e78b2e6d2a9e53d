import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getDb } from "@/db/client";
import { env } from "@/lib/env";
import { persistentSecret } from "@/lib/secrets";
import { checkCredentials } from "./sign-in";
import { clientIp } from "@/lib/http/respond";

class RateLimitedSignin extends CredentialsSignin {
  code = "rate_limited";
}


export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: env().AUTH_SECRET ?? persistentSecret("auth-secret"),
  trustHost: true,
  // Credentials sign-in requires JWT sessions in Auth.js v5.
  session: { strategy: "jwt", maxAge: 30 * 24 * 3600 },
  pages: { signIn: "/sign-in" },
  providers: [
    Credentials({
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, request) {
        const outcome = await checkCredentials(await getDb(), credentials, request ? clientIp(request) : "unknown");
        if (outcome.ok) return outcome.user;
        if (outcome.reason === "rate_limited") throw new RateLimitedSignin();
        return null;
      },
    }),
  ],
  callbacks: {
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
}));
