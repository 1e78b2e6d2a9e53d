import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getDb } from "@/db/client";
import { env } from "@/lib/env";
import { persistentSecret } from "@/lib/secrets";
import { checkCredentials } from "./sign-in";
import { currentSessionVersion } from "./session-version";
import { clientIp } from "@/lib/http/respond";
import { logError } from "@/lib/log";

/** The code carries the seconds to wait: `rate_limited_<seconds>` (Auth.js passes the code through). */
class RateLimitedSignin extends CredentialsSignin {
  constructor(retryAfterSeconds: number) {
    super();
    this.code = `rate_limited_${retryAfterSeconds}`;
  }
}

/** Rolling sessions: at most this long without a request. */
export const SESSION_MAX_AGE_SECONDS = 14 * 24 * 3600;

export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: env().AUTH_SECRET ?? persistentSecret("auth-secret", "AUTH_SECRET"),
  trustHost: true,
  // Credentials sign-in requires JWT sessions in Auth.js v5. Rolling: each day of use renews the
  // cookie; two weeks without a request and the session is over.
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS, updateAge: 24 * 3600 },
  pages: { signIn: "/sign-in" },
  // A refused sign-in is expected: checkCredentials logs it as one line. Auth.js would log each
  // as an error with a stack trace, flooding the log during a guessing attack.
  logger: {
    error(error: Error) {
      if (error instanceof CredentialsSignin || error.name === "CredentialsSignin") return;
      logError("auth", error);
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, request) {
        const outcome = await checkCredentials(await getDb(), credentials, request ? clientIp(request) : "unknown");
        if (outcome.ok) return outcome.user;
        if (outcome.reason === "rate_limited") throw new RateLimitedSignin(outcome.retryAfterSeconds ?? 60);
        return null;
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        // Signing in: the session starts at the user's current version.
        token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 1;
        return token;
      }
      // Every request: a session issued before the last password change, reset, removal or
      // "sign out everywhere" is over.
      if (!token.sub) return null;
      const current = await currentSessionVersion(await getDb(), token.sub);
      if (current === null || current !== token.sv) return null;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
}));
