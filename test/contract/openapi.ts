// A small validator for the OpenAPI 3.0 schema subset the Hevy spec uses. Written by hand because
// the Workers runtime forbids eval/new Function (which schema compilers such as Ajv rely on).
//
// Supported: $ref (local "#/..."), type (object, array, string, number, integer, boolean), nullable,
// properties, required, items, enum, oneOf, anyOf, allOf, additionalProperties (boolean or schema).
// Not checked: format, pattern, minimum/maximum, lengths (the Hevy spec only uses format).

export interface Schema {
  $ref?: string; type?: string; nullable?: boolean; enum?: unknown[];
  properties?: Record<string, Schema>; required?: string[]; additionalProperties?: boolean | Schema;
  items?: Schema; oneOf?: Schema[]; anyOf?: Schema[]; allOf?: Schema[];
  [key: string]: unknown;
}
export interface OpenApiDoc { paths: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, Schema> } }

export type ErrorCode = "type" | "null" | "required" | "additional" | "enum" | "oneOf" | "anyOf" | "schema";
export interface SchemaError { path: string; message: string; code: ErrorCode }

export interface ValidateOptions {
  /** Treat every declared property as required (the spec marks almost nothing required). */
  requireAllProperties?: boolean;
  /** Reject properties the schema does not declare, even where the spec has no additionalProperties. */
  rejectUnknownProperties?: boolean;
  /** Explicit allow-list: return true to drop an error. Applied to every leaf error, including inside
   *  oneOf/anyOf branches, so an allowed deviation does not make a branch fail. */
  allow?: (e: SchemaError) => boolean;
}

const typeOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;

export function resolveRef(doc: OpenApiDoc, ref: string): Schema {
  if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported: ${ref}`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  }
  if (!node || typeof node !== "object") throw new Error(`unresolvable $ref: ${ref}`);
  return node as Schema;
}

/** The JSON schema of one documented response, or undefined when the spec gives none. */
export function responseSchema(doc: OpenApiDoc, path: string, method: string, status: number | string): Schema | undefined {
  const op = doc.paths[path]?.[method.toLowerCase()] as { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> } | undefined;
  return op?.responses?.[String(status)]?.content?.["application/json"]?.schema;
}

/** Statuses the spec documents for one operation. */
export function documentedStatuses(doc: OpenApiDoc, path: string, method: string): string[] {
  const op = doc.paths[path]?.[method.toLowerCase()] as { responses?: Record<string, unknown> } | undefined;
  return Object.keys(op?.responses ?? {});
}

export function validate(doc: OpenApiDoc, schema: Schema, value: unknown, opts: ValidateOptions = {}, path = "$"): SchemaError[] {
  const errors: SchemaError[] = [];
  const report = (e: SchemaError) => { if (!opts.allow?.(e)) errors.push(e); };
  const s = schema.$ref ? resolveRef(doc, schema.$ref) : schema;
  if (s.$ref) return validate(doc, s, value, opts, path);

  if (value === null) {
    // A schema with no type/composition accepts anything; otherwise null needs `nullable: true`.
    const constrained = s.type !== undefined || s.enum || s.properties || s.oneOf || s.anyOf || s.allOf;
    if (constrained && !s.nullable) report({ path, code: "null", message: "is null but the schema is not nullable" });
    return errors;
  }

  for (const sub of s.allOf ?? []) errors.push(...validate(doc, sub, value, opts, path));
  for (const [kw, list] of [["oneOf", s.oneOf], ["anyOf", s.anyOf]] as const) {
    if (!list) continue;
    const results = list.map((sub) => validate(doc, sub, value, opts, path));
    const passing = results.filter((r) => r.length === 0).length;
    if (kw === "oneOf" ? passing !== 1 : passing === 0) {
      const detail = results.map((r, i) => `#${i}: ${r.map((e) => `${e.path} ${e.message}`).join("; ") || "ok"}`).join(" | ");
      report({ path, code: kw, message: `matches ${passing} of ${list.length} ${kw} branches (${detail})` });
    }
  }

  if (s.enum && !s.enum.some((e) => e === value)) report({ path, code: "enum", message: `${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}` });

  const actual = typeOf(value);
  switch (s.type) {
    case undefined: break;
    case "enum": break; // Hevy spec quirk: MuscleGroup/EquipmentCategory say `type: "enum"`; the enum keyword above does the check.
    case "number": if (actual !== "number" && actual !== "integer") report({ path, code: "type", message: `expected number, got ${actual}` }); break;
    case "integer": case "string": case "boolean": case "array": case "object":
      if (actual !== s.type) report({ path, code: "type", message: `expected ${s.type}, got ${actual}` });
      break;
    default: report({ path, code: "schema", message: `unsupported schema type ${JSON.stringify(s.type)}` });
  }

  if (actual === "array" && s.items) (value as unknown[]).forEach((item, i) => errors.push(...validate(doc, s.items as Schema, item, opts, `${path}[${i}]`)));

  if (actual === "object" && (s.type === "object" || s.properties)) {
    const obj = value as Record<string, unknown>;
    const props = s.properties ?? {};
    const required = opts.requireAllProperties ? Object.keys(props) : s.required ?? [];
    for (const key of required) if (!(key in obj)) report({ path: `${path}.${key}`, code: "required", message: "is required but missing" });
    for (const [key, v] of Object.entries(obj)) {
      const sub = props[key];
      if (sub) { errors.push(...validate(doc, sub, v, opts, `${path}.${key}`)); continue; }
      if (s.additionalProperties === false || (s.additionalProperties === undefined && opts.rejectUnknownProperties && s.properties)) {
        report({ path: `${path}.${key}`, code: "additional", message: "is not declared by the schema" });
      } else if (typeof s.additionalProperties === "object") {
        errors.push(...validate(doc, s.additionalProperties, v, opts, `${path}.${key}`));
      }
    }
  }
  return errors;
}
