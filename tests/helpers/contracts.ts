import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { CATALOG_EVENT_TYPES, type CatalogEventType } from "@/lib/webhooks/catalog";
import { eventJsonSchema } from "@/lib/webhooks/event-schemas";

/** Every event body checked against the JSON Schema GET /api/v1/event-types publishes for its type. */

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

/** Why `body` breaks its event type's contract, or null when it keeps it. */
export function contractViolation(body: unknown): string | null {
  const type = (body as { type?: string } | null)?.type;
  if (!type || !(CATALOG_EVENT_TYPES as readonly string[]).includes(type)) return `unknown event type ${String(type)}`;
  let validate = validators.get(type);
  if (!validate) {
    validate = ajv.compile(eventJsonSchema(type as CatalogEventType));
    validators.set(type, validate);
  }
  return validate(body) ? null : `${type}: ${ajv.errorsText(validate.errors)}`;
}
