// The building blocks of the generated bad requests (test/bad-input-cases.ts):
// what can be wrong with any JSON body, with any paged list's query, and with
// the method of any known path — each with the answer the contract asks for.

export interface BadRequest {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  status: number;
  /** The problem+json `code` expected (API routes); pages answer HTML. */
  code?: string;
  page?: boolean;
}

export interface CaseContext {
  token: string;
  adminToken: string;
  userEmail: string;
  apiKey: string;
  workoutId: string;
  exportId: string;
  appleExternalId: string;
  recoveryDate: string;
  other: { workoutId: string; exportId: string; appleExternalId: string };
  webhook: { secret: string; authToken: string; secretDigest: string };
  session: { cookie: string; csrf: string };
  login: { cookie: string; csrf: string };
}

const MIB = 1024 * 1024;
export const JSON_TYPE = { "content-type": "application/json" };
const bytes = (s: string) => new TextEncoder().encode(s);
const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
export const enc = encodeURIComponent;

export type Shape = Pick<BadRequest, "headers" | "body" | "status" | "code"> & { label: string };

/** What is wrong with a JSON body, independent of the route: syntax, encoding, type, size, media type. */
export function bodyShapes(valid: Record<string, unknown>, opts: { emptyIsValid?: boolean } = {}): Shape[] {
  const invalidJson = ["{", '{"items": [}', "{'a': 1}", '{"a": 1,}', "NaN", "undefined", '{"a": 1}{"b": 2}', '{"a": "\u0000"'];
  const shapes: Shape[] = invalidJson.map((text) => ({ label: `invalid JSON ${JSON.stringify(text)}`, headers: JSON_TYPE, body: text, status: 400, code: "invalid_json" }));
  // {"<0xff 0xfe>": 1}: bytes that are not UTF-8, in a key no schema knows.
  shapes.push({ label: "invalid UTF-8 bytes", headers: JSON_TYPE, body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), status: 400, code: "validation_failed" });
  if (!opts.emptyIsValid) shapes.push({ label: "empty body", headers: JSON_TYPE, body: "", status: 400, code: "invalid_json" });
  for (const v of ["null", "[]", '"text"', "42", "true"]) {
    shapes.push({ label: `JSON ${v} instead of an object`, headers: JSON_TYPE, body: v, status: 400, code: "validation_failed" });
  }
  const text = JSON.stringify(valid);
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "text/json", "application/jsonx"]) {
    shapes.push({ label: `content type ${type}`, headers: { "content-type": type }, body: text, status: 415, code: "unsupported_media_type" });
  }
  shapes.push({ label: "no content type", headers: {}, body: bytes(text), status: 415, code: "unsupported_media_type" });
  shapes.push({ label: "extra top-level field", headers: JSON_TYPE, body: JSON.stringify({ ...valid, is_admin: true }), status: 400, code: "validation_failed" });
  shapes.push({ label: "__proto__ field", headers: JSON_TYPE, body: `{"__proto__": {"is_admin": true}, ${text.slice(1)}`, status: 400, code: "validation_failed" });
  shapes.push({ label: "body over 1 MiB", headers: JSON_TYPE, body: JSON.stringify({ ...valid, pad: "x".repeat(MIB) }), status: 413, code: "payload_too_large" });
  return shapes;
}

export const fieldCase = (label: string, body: unknown): Shape => ({ label, headers: JSON_TYPE, body: JSON.stringify(body), status: 400, code: "validation_failed" });
/** A body whose JSON text is given as is (numbers like 1e400 that JSON.stringify cannot write). */
export const rawFieldCase = (label: string, text: string): Shape => ({ label, headers: JSON_TYPE, body: text, status: 400, code: "validation_failed" });

export function route(method: string, path: string, auth: Record<string, string>, shapes: Shape[]): BadRequest[] {
  return shapes.map((s) => ({ name: `${method} ${path}: ${s.label}`, method, path, headers: { ...auth, ...s.headers }, body: s.body, status: s.status, code: s.code }));
}

export function query(path: string, auth: Record<string, string>, params: Array<[string, string, number?, string?]>): BadRequest[] {
  return params.map(([label, q, status = 400, code = "validation_failed"]) => ({
    name: `GET ${path}?${q}: ${label}`, method: "GET", path: `${path}?${q}`, headers: auth, status, code,
  }));
}

/** Query strings every paged list refuses: limits, cursors and instants out of range or malformed. */
export function listParams(extra: Array<[string, string]> = []): Array<[string, string]> {
  const cursor = (value: unknown) => b64url(JSON.stringify(value));
  return [
    ["limit 0", "limit=0"], ["limit -1", "limit=-1"], ["limit 101", "limit=101"], ["limit huge", "limit=100000000000000000000000"],
    ["limit fraction", "limit=1.5"], ["limit exponent", "limit=1e2"], ["limit word", "limit=ten"], ["limit empty", "limit="],
    ["limit hex", "limit=0x10"], ["limit non-ASCII digit", `limit=${enc("٣")}`], ["limit padded", `limit=${enc(" 5")}`], ["limit twice", "limit=5&limit=500"],
    ["cursor empty", "cursor="], ["cursor not base64", `cursor=${enc("!!!***")}`], ["cursor too long", `cursor=${"A".repeat(600)}`],
    ["cursor of non-JSON", `cursor=${b64url("not json")}`], ["cursor of an empty object", `cursor=${cursor({})}`],
    ["cursor with SQL", `cursor=${cursor({ s: "0 OR 1=1; --", i: "' OR '1'='1" })}`], ["cursor of an array", `cursor=${cursor([1e308, "x"])}`],
    ["from a word", "from=yesterday"], ["from month 13", "from=2026-13-01"], ["from 30 February", "from=2026-02-30"],
    ["from without a zone", "from=2026-11-20T17:02:00"], ["from with a space", `from=${enc("2026-11-20 17:02:00Z")}`],
    ["from epoch seconds", "from=1795000000"], ["from offset +25:00", `from=${enc("2026-11-20T17:02:00+25:00")}`],
    ["from hour 24:30", "from=2026-11-20T24:30:00Z"], ["from year 0", "from=0000-01-01"], ["from full-width digits", `from=${enc("２０２６-01-01")}`],
    ["from with SQL", `from=${enc("2026-11-20'; DROP TABLE hevy_workouts; --")}`], ["from control char", "from=2026-11-20%00"],
    ["to malformed", "to=2026-11-31"], ["from after to", "from=2026-11-02&to=2026-11-01"],
    ["unknown parameter", "foo=1"], ["parameter in capitals", "LIMIT=5"], ["bracketed parameter", `${enc("limit[]")}=5`],
    ...extra,
  ];
}

const WRONG_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Every known path with a method it does not have: 405 with Allow. */
export function wrongMethods(c: CaseContext, auth: Record<string, string>, admin: Record<string, string>): BadRequest[] {
  const paths: Array<[string, string[], Record<string, string>]> = [
    ["/admin/v1/users", ["POST"], admin],
    ["/api/v1/connections/hevy", ["GET", "PUT", "DELETE"], auth],
    ["/api/v1/connections/hevy/webhook-secret", ["POST"], auth],
    ["/api/v1/connections/hevy/sync", ["POST"], auth],
    ["/api/v1/workouts/hevy", ["GET"], auth],
    [`/api/v1/workouts/hevy/${c.workoutId}`, ["GET"], auth],
    ["/api/v1/workouts/unified", ["GET"], auth],
    ["/api/v1/sources/apple_health/workouts", ["PUT"], auth],
    [`/api/v1/sources/apple_health/workouts/${c.appleExternalId}`, ["DELETE"], auth],
    ["/api/v1/recovery/whoop", ["PUT"], auth],
    ["/api/v1/hevy/summary", ["GET"], auth],
    ["/api/v1/hevy/prs", ["GET"], auth],
    ["/api/v1/hevy/trends", ["GET"], auth],
    ["/api/v1/hevy/muscle-groups", ["GET"], auth],
    ["/api/v1/hevy/sessions/latest/recovery", ["GET"], auth],
    [`/api/v1/exports/${c.exportId}`, ["GET"], auth],
    [`/api/v1/exports/${c.exportId}/download`, ["GET"], auth],
    [`/webhooks/hevy/${c.webhook.secret}`, ["POST"], {}],
    ["/login", ["GET", "POST"], {}],
    ["/logout", ["POST"], {}],
  ];
  return paths.flatMap(([path, allowed, headers]) =>
    WRONG_METHODS.filter((m) => !allowed.includes(m)).map((method) => ({
      name: `${method} ${path}: method not allowed`, method, path, headers, status: 405, code: "method_not_allowed",
      body: method === "GET" ? undefined : "",
    })),
  );
}
