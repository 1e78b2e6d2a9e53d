import { unknownFieldMessage } from "./unknown-fields";

/** The public error codes of DESIGN.md "Errors" and the HTTP status each maps to. */
export const ERROR_STATUS = {
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  insufficient_scope: 403,
  plan_limit_reached: 403,
  not_found: 404,
  conflict: 409,
  idempotency_key_reused: 409,
  idempotency_key_in_use: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  import_file_rejected: 422,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Seconds a client should wait before retrying: sent as Retry-After (always, for `unavailable`). */
    public retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
  }
}

/** What a 503 tells a client to wait when nothing more precise is known. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

type Issue = { path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: readonly string[]; known?: readonly string[] };

/** zod issues → the documented `details` list, one entry per bad field (and per unknown field). */
export function zodDetails(issues: ReadonlyArray<Issue>, prefix = ""): ErrorDetail[] {
  const at = (path: ReadonlyArray<PropertyKey>) => [prefix, ...path.map(String)].filter(Boolean).join(".");
  return issues.flatMap((i) =>
    i.code === "unrecognized_keys" && i.keys?.length
      ? i.keys.map((key) => ({ path: at([...i.path, key]), message: unknownFieldMessage(key, i.known) }))
      : [{ path: at(i.path), message: i.message }],
  );
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
