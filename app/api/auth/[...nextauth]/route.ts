import { handlers } from "@/lib/auth/next-auth";
import { AUTH_BODY_LIMIT, capAuthBody } from "@/lib/auth/body-cap";

export const { GET } = handlers;

/** Auth.js reads the whole form: it gets a copy read under AUTH_BODY_LIMIT. */
export async function POST(req: Request): Promise<Response> {
  return capAuthBody(req, AUTH_BODY_LIMIT, handlers.POST);
}
