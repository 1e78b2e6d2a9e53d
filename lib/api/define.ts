import "server-only";
import type { z } from "zod";
import type { ApiScope } from "@/db/schema";
import { apiRoute, type ApiContext, type ApiResult } from "@/lib/http/gate";
import { refuseQuery } from "@/lib/http/query";
import type { RecordType } from "@/lib/records/registry";

/**
 * An API route is declared once, as data: method, path, scope, what it accepts and answers, and its
 * handler. The Next.js route exports (`serve`), the OpenAPI paths (lib/openapi/document.ts) and the
 * security suite's list are all derived from the declarations in lib/api/routes.ts.
 */

export const METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

type ParamNames<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
/** `/api/v1/webhooks/{id}` → `{ id: string }`. */
export type PathParams<Path extends string> = { [K in ParamNames<Path>]: string };

/** What the OpenAPI document says about one operation (security, scope and the 401/429 answers are added). */
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required?: boolean; type?: "application/json" | "multipart/form-data" };
  response: { status: number; description: string; schema: z.ZodType; type?: "application/json" | "text/csv" };
  /** Other successful answers, e.g. 200 for a subscription that already existed beside 201 for a new one. */
  alsoAnswers?: { status: number; description: string; schema: z.ZodType }[];
  /** The error statuses the route answers besides 401 and 429. */
  errors: number[];
}

export interface RouteDeclaration<M extends Method = Method, Path extends string = string> {
  method: M;
  /** The URL as OpenAPI writes it; the route file lives at the same path under app/ (`{id}` → `[id]`). */
  path: Path;
  scope: ApiScope;
  /** A route under `{type}` is documented once per record type, each with that type's schemas. */
  doc: Operation | ((type: RecordType) => Operation);
  handler(ctx: ApiContext, params: PathParams<Path>): Promise<ApiResult>;
}

export function defineRoute<M extends Method, Path extends string>(declaration: RouteDeclaration<M, Path>): RouteDeclaration<M, Path> {
  return declaration;
}

export type RouteHandler = (req: Request, route: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;

const handlers = new WeakMap<RouteDeclaration, RouteHandler>();

/** The Next.js handler of a declaration: its handler behind the API gate (one per declaration); every POST honours Idempotency-Key. */
export function handlerOf(declaration: RouteDeclaration): RouteHandler {
  let handler = handlers.get(declaration);
  if (!handler) {
    // A route documented without a query refuses one, so a misspelt parameter is never ignored.
    const takesQuery = Boolean((typeof declaration.doc === "function" ? declaration.doc("client") : declaration.doc).query);
    handler = apiRoute({ scope: declaration.scope, idempotent: declaration.method === "POST" }, (ctx, params) => {
      if (!takesQuery && ctx.req.url.includes("?")) refuseQuery(new URL(ctx.req.url).searchParams);
      return declaration.handler(ctx, params as PathParams<string>);
    }) as RouteHandler;
    handlers.set(declaration, handler);
  }
  return handler;
}

/**
 * The exports of the route file for `path`: `export const { GET, POST } = serve(webhookRoutes, "/api/v1/webhooks")`.
 * Only the declared methods are typed (and present).
 */
export function serve<D extends RouteDeclaration, P extends D["path"]>(
  declarations: readonly D[],
  path: P,
): { [K in Extract<D, { path: P }>["method"]]: RouteHandler } {
  const out: Partial<Record<Method, RouteHandler>> = {};
  for (const d of declarations) if (d.path === path) out[d.method] = handlerOf(d);
  if (Object.keys(out).length === 0) throw new Error(`No API route is declared for ${path}.`);
  return out as { [K in Extract<D, { path: P }>["method"]]: RouteHandler };
}
