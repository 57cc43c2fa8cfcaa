import { Validator } from "@cfworker/json-schema";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";

// A contract test of our own API (SPEC §14): every answer a test receives from /api/v1 or
// /admin/v1 must be one the OpenAPI document declares for that operation — its status, its media
// type and, for JSON, its body, checked by @cfworker/json-schema (a JSON Schema 2020-12 validator
// that is not the code under test, and runs without eval in the Workers runtime).

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
export interface ApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, object> };
}

let documentPromise: Promise<ApiDocument> | undefined;

/** The Worker's own /api/v1/openapi.json (once per test file). */
export function apiDocument(): Promise<ApiDocument> {
  documentPromise ??= (async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("https://vitaltrends.test/api/v1/openapi.json"), env, ctx);
    await waitOnExecutionContext(ctx);
    if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
    return (await res.json()) as ApiDocument;
  })();
  return documentPromise;
}

const templateRegex = (template: string) => new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);

/** The documented operation a request reached: literal paths before templated ones (`/users/move-legacy` before `/users/{id}`). */
export function operationOf(doc: ApiDocument, method: string, path: string): { template: string; operation: Operation } | undefined {
  const candidates = Object.keys(doc.paths)
    .filter((t) => doc.paths[t]![method.toLowerCase()] && templateRegex(t).test(path))
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const template = candidates[0];
  return template ? { template, operation: doc.paths[template]![method.toLowerCase()]! } : undefined;
}

const validators = new Map<string, Validator>();

function validatorFor(doc: ApiDocument, key: string, schema: object): Validator {
  let v = validators.get(key);
  if (!v) {
    // Component references become local $defs so one schema object carries everything it needs.
    const rewrite = (value: object) => JSON.parse(JSON.stringify(value).replace(/#\/components\/schemas\//g, "#/$defs/"));
    v = new Validator({ ...rewrite(schema), $defs: rewrite(doc.components.schemas ?? {}) }, "2020-12", false);
    validators.set(key, v);
  }
  return v;
}

/**
 * Throws when `res` (to `method` `url`) is not what the document promises. Requests that reached
 * no documented operation (an unknown path, a method the path lacks, pages) are not checked.
 */
export async function checkContract(method: string, url: string, res: Response): Promise<void> {
  const path = new URL(url).pathname;
  if (!/^\/(api|admin)\/v1\//.test(path) || path === "/api/v1/openapi.json") return;
  const doc = await apiDocument();
  const found = operationOf(doc, method, path);
  if (!found) return;
  const where = `${method} ${found.template} → ${res.status}`;
  const declared = found.operation.responses[String(res.status)];
  if (!declared) throw new Error(`OpenAPI contract: ${where} is not a documented answer (documented: ${Object.keys(found.operation.responses).join(", ")})`);
  const body = await res.clone().text();
  const media = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = declared.content;
  if (!content) {
    if (body !== "") throw new Error(`OpenAPI contract: ${where} has a body but the document declares none`);
    return;
  }
  const entry = content[media];
  if (!entry) throw new Error(`OpenAPI contract: ${where} answered ${media || "no content type"}, documented ${Object.keys(content).join(", ")}`);
  if (!media.endsWith("json") || !entry.schema) return;
  const result = validatorFor(doc, `${where} ${media}`, entry.schema).validate(JSON.parse(body));
  if (!result.valid) {
    const errors = result.errors.slice(0, 5).map((e) => `${e.instanceLocation} ${e.error}`).join("; ");
    throw new Error(`OpenAPI contract: ${where} body does not match its schema: ${errors}\nbody: ${body.slice(0, 500)}`);
  }
}
