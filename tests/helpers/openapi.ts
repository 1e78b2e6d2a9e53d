import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { GET as openapi } from "@/app/api/v1/openapi.json/route";

export type OpenApiDoc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: object;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

export async function loadDocument(): Promise<OpenApiDoc> {
  return (await openapi(new Request("http://127.0.0.1/api/v1/openapi.json")).json()) as OpenApiDoc;
}

/** Asserts a response body matches what the document promises for that route and status. */
export function expectConforms(doc: OpenApiDoc, method: string, docPath: string, status: number, body: unknown) {
  const op = doc.paths[docPath]?.[method];
  expect(op, `${method} ${docPath} documented`).toBeDefined();
  const schema = op!.responses[String(status)]?.content?.["application/json"]?.schema;
  expect(schema, `${method} ${docPath} documents ${status}`).toBeDefined();
  const validate = ajv.compile({ ...schema, components: doc.components });
  const valid = validate(body);
  expect(valid, `${method} ${docPath} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}
