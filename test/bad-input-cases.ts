// Generated malformed requests over every route. Each case names what is wrong
// and the answer the contract asks for (SPEC §3, §10): the status, and for the
// API the problem code. Bodies are raw strings or bytes, so broken JSON, bad
// encodings and wrong content types reach the Worker exactly as written.

import {
  type BadRequest, bodyShapes, type CaseContext, enc, fieldCase, JSON_TYPE, listParams, query, rawFieldCase, route, type Shape, wrongMethods,
} from "./bad-input-shapes";

export type { BadRequest, CaseContext } from "./bad-input-shapes";

function adminCases(c: CaseContext, admin: Record<string, string>): BadRequest[] {
  const valid = { email: "new-user@example.com", timezone: "Europe/Berlin" };
  const shapes: Shape[] = [
    ...bodyShapes(valid),
    fieldCase("email missing", { timezone: "UTC" }),
    ...[42, null, [], {}, true].map((email) => fieldCase(`email ${JSON.stringify(email)}`, { email })),
    ...["", "not-an-email", "a@", "@example.com", "a b@example.com", "a\u0000b@example.com", "x@example.com; DROP TABLE users",
      `${"x".repeat(250)}@example.com`, "ü@exämple.com"].map((email) => fieldCase(`email ${JSON.stringify(email.slice(0, 40))}`, { email })),
    ...["Mars/Olympus_Mons", "", "../../../etc/passwd", "Europe/Berlin\n", "UTC; DROP TABLE users; --", "x".repeat(65), "+25:00"]
      .map((timezone) => fieldCase(`timezone ${JSON.stringify(timezone.slice(0, 30))}`, { email: "tz@example.com", timezone })),
    ...[5, null, ["UTC"]].map((timezone) => fieldCase(`timezone ${JSON.stringify(timezone)}`, { email: "tz@example.com", timezone })),
    { label: "email already registered", headers: JSON_TYPE, body: JSON.stringify({ email: c.userEmail }), status: 409, code: "email_taken" },
    { label: "email registered, in capitals", headers: JSON_TYPE, body: JSON.stringify({ email: c.userEmail.toUpperCase() }), status: 409, code: "email_taken" },
  ];
  return [...route("POST", "/admin/v1/users", admin, shapes), ...userPatchCases(c, admin)];
}

/** PATCH /admin/v1/users/{id} ({timezone}, strict), aimed at an id no user has: a body that wrongly passed would answer 404, not 400. */
function userPatchCases(c: CaseContext, admin: Record<string, string>): BadRequest[] {
  const path = "/admin/v1/users/00000000-0000-4000-8000-000000000000";
  const valid = { timezone: "Europe/Berlin" };
  const shapes: Shape[] = [
    ...bodyShapes(valid),
    fieldCase("timezone missing", {}),
    ...["Mars/Olympus_Mons", "", "../../../etc/passwd", "Europe/Berlin\n", "UTC; DROP TABLE users; --", "x".repeat(65), "+25:00"]
      .map((timezone) => fieldCase(`timezone ${JSON.stringify(timezone.slice(0, 30))}`, { timezone })),
    ...[5, null, ["UTC"], { zone: "UTC" }].map((timezone) => fieldCase(`timezone ${JSON.stringify(timezone)}`, { timezone })),
    fieldCase("a valid zone with an email", { timezone: "UTC", email: "someone@example.com" }),
    fieldCase("a valid zone with an id", { timezone: "UTC", id: "someone-else" }),
    { label: "a valid zone for no such user", headers: JSON_TYPE, body: JSON.stringify(valid), status: 404, code: "not_found" },
  ];
  const body = JSON.stringify(valid);
  const byId = (label: string, id: string): BadRequest => ({
    name: `PATCH /admin/v1/users/${id.slice(0, 60)}: ${label}`, method: "PATCH", path: `/admin/v1/users/${id}`,
    headers: { ...admin, ...JSON_TYPE }, body, status: 400, code: "validation_failed",
  });
  const unauthorized = (label: string, auth: Record<string, string>): BadRequest => ({
    name: `PATCH ${path}: ${label}`, method: "PATCH", path, headers: { ...auth, ...JSON_TYPE }, body, status: 401, code: "unauthorized",
  });
  return [
    ...route("PATCH", path, admin, shapes),
    byId("id with a space", "a%20b"), byId("id of 65 characters", "a".repeat(65)), byId("id with SQL", enc("x' OR '1'='1")),
    byId("id an encoded traversal", "..%2Fkey-rotation"), byId("id with non-ASCII letters", enc("üser")),
    unauthorized("no Authorization", {}), unauthorized("the user's API token", { authorization: `Bearer ${c.token}` }),
    unauthorized("admin token plus a character", { authorization: `${admin.authorization}x` }),
    ...["GET", "POST", "PUT", "DELETE"].map((method): BadRequest => ({
      name: `${method} ${path}: method not allowed`, method, path, headers: admin, status: 405, code: "method_not_allowed",
      body: method === "GET" ? undefined : "",
    })),
  ];
}

function connectionCases(c: CaseContext, auth: Record<string, string>): BadRequest[] {
  const shapes: Shape[] = [
    ...bodyShapes({ api_key: c.apiKey }),
    fieldCase("api_key missing", {}),
    ...[42, null, [], { key: c.apiKey }].map((k) => fieldCase(`api_key ${JSON.stringify(k)}`, { api_key: k })),
    ...["", "not-a-uuid", `${c.apiKey}\n`, c.apiKey.replace(/-/g, ""), "' OR '1'='1", `${c.apiKey}' --`, "x".repeat(10_000), c.apiKey.replace(/^./, "٣")]
      .map((k) => fieldCase(`api_key ${JSON.stringify(k.slice(0, 40))}`, { api_key: k })),
    fieldCase("a valid key with an extra field", { api_key: c.apiKey, user_id: "someone-else" }),
    { label: "a UUID Hevy does not know", headers: JSON_TYPE, body: JSON.stringify({ api_key: crypto.randomUUID() }), status: 422, code: "hevy_key_invalid" },
  ];
  const del = (label: string, q: string): BadRequest => ({ name: `DELETE /api/v1/connections/hevy?${q}: ${label}`, method: "DELETE", path: `/api/v1/connections/hevy?${q}`, headers: auth, status: 400, code: "validation_failed" });
  return [
    ...route("PUT", "/api/v1/connections/hevy", auth, shapes),
    del("purge yes", "purge=yes"), del("purge TRUE", "purge=TRUE"), del("purge 1", "purge=1"), del("purge empty", "purge="),
    del("purge with an unknown parameter", "purge=true&force=1"), del("purge twice", "purge=true&purge=false"), del("unknown parameter", "user_id=x"),
  ];
}

function workoutCases(c: CaseContext, auth: Record<string, string>): BadRequest[] {
  const byId = (label: string, id: string, status: number, code: string): BadRequest => ({
    name: `GET /api/v1/workouts/hevy/${id.slice(0, 60)}: ${label}`, method: "GET", path: `/api/v1/workouts/hevy/${id}`, headers: auth, status, code,
  });
  return [
    ...query("/api/v1/workouts/hevy", auth, listParams([["updated_since a word", "updated_since=recently"], ["updated_since 31 April", "updated_since=2026-04-31"]])),
    ...query("/api/v1/workouts/unified", auth, listParams([["source unknown", "source=garmin"], ["source in capitals", "source=HEVY"], ["source empty", "source="], ["two sources", `source=${enc("hevy,whoop")}`]])),
    byId("encoded path traversal", "..%2F..%2Fadmin%2Fv1%2Fusers", 400, "validation_failed"),
    byId("dot-dot", "%2e%2e", 404, "not_found"),
    byId("traversal out of the API", "../../../admin/v1/users", 404, "not_found"),
    byId("SQL", enc("1' OR '1'='1"), 400, "validation_failed"),
    byId("NUL", "%00", 400, "validation_failed"),
    byId("right-to-left override", enc("\u202eabc"), 400, "validation_failed"),
    byId("bad percent-encoding", "%E0%A4%A", 400, "validation_failed"),
    byId("65 characters", "a".repeat(65), 400, "validation_failed"),
    byId("unknown UUID", crypto.randomUUID(), 404, "not_found"),
    byId("another user's workout", c.other.workoutId, 404, "not_found"),
    byId("own id in capitals", c.workoutId.toUpperCase(), 404, "not_found"),
  ];
}

const isoZ = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function sourceCases(c: CaseContext, auth: Record<string, string>): BadRequest[] {
  // The valid item rewrites a stored workout: if any case below were accepted, the user's data would change.
  const start = Date.UTC(2026, 10, 20, 17, 2);
  const item = { external_id: c.appleExternalId, activity_type: "running", start_time: isoZ(start), end_time: isoZ(start + 3_600_000), calories_kcal: 1, avg_hr_bpm: 100, max_hr_bpm: 150 };
  const withItem = (label: string, patch: Record<string, unknown>, drop?: string) => {
    const it: Record<string, unknown> = { ...item, ...patch };
    if (drop) delete it[drop];
    return fieldCase(label, { items: [it] });
  };
  const path = "/api/v1/sources/apple_health/workouts";
  const shapes: Shape[] = [
    ...bodyShapes({ items: [item] }),
    ...["external_id", "activity_type", "start_time", "end_time"].map((f) => withItem(`${f} missing`, {}, f)),
    ...[42, null, "", "x".repeat(129), "a\u0000b", "a\nb", "\u007f", "a\ud800b"].map((v) => withItem(`external_id ${JSON.stringify(v).slice(0, 30)}`, { external_id: v })),
    ...[5, "", "x".repeat(65), "run\u0007"].map((v) => withItem(`activity_type ${JSON.stringify(v).slice(0, 30)}`, { activity_type: v })),
    ...["2026-11-20T17:02:00", "2026-11-20", 1_795_000_000_000, "2026-02-30T10:00:00Z", "2026-11-20T17:02:00+99:00", "'; DROP TABLE source_workouts; --", "2026-11-20T17:02:00Z\u0000"]
      .map((v) => withItem(`start_time ${JSON.stringify(v).slice(0, 40)}`, { start_time: v })),
    withItem("end before start", { end_time: isoZ(start - 1000) }),
    ...[42, "x".repeat(301), "a\udc00"].map((v) => withItem(`title ${JSON.stringify(v).slice(0, 20)}`, { title: v })),
    ...[-1, 50_001, "410"].map((v) => withItem(`calories_kcal ${JSON.stringify(v)}`, { calories_kcal: v })),
    ...[0, 301, "118"].map((v) => withItem(`avg_hr_bpm ${JSON.stringify(v)}`, { avg_hr_bpm: v, max_hr_bpm: null })),
    withItem("max_hr_bpm below avg_hr_bpm", { avg_hr_bpm: 150, max_hr_bpm: 120 }),
    withItem("an extra field in an item", { user_id: "someone-else" }),
    rawFieldCase("calories_kcal 1e400", JSON.stringify({ items: [item] }).replace('"calories_kcal":1', '"calories_kcal":1e400')),
    fieldCase("a repeated external_id", { items: [item, item] }),
    fieldCase("a valid item, then an invalid one", { items: [item, { ...item, external_id: "second", start_time: "soon" }] }),
    ...[{}, "x", null, 5].map((items) => fieldCase(`items ${JSON.stringify(items)}`, { items })),
    fieldCase("items missing", {}),
    { label: "501 items", headers: JSON_TYPE, body: JSON.stringify({ items: Array.from({ length: 501 }, (_, i) => ({ ...item, external_id: `b-${i}` })) }), status: 413, code: "batch_too_large" },
  ];
  const unknownSource = (label: string, source: string): BadRequest => ({
    name: `PUT /api/v1/sources/${source}/workouts: ${label}`, method: "PUT", path: `/api/v1/sources/${source}/workouts`, headers: { ...auth, ...JSON_TYPE },
    body: JSON.stringify({ items: [item] }), status: 404, code: "not_found",
  });
  const del = (label: string, source: string, id: string): BadRequest => ({
    name: `DELETE /api/v1/sources/${source}/workouts/${id.slice(0, 40)}: ${label}`, method: "DELETE", path: `/api/v1/sources/${source}/workouts/${id}`, headers: auth, status: 404, code: "not_found",
  });
  return [
    ...route("PUT", path, auth, shapes),
    unknownSource("unknown source", "garmin"), unknownSource("source in capitals", "APPLE_HEALTH"), unknownSource("source with NUL", "apple_health%00"),
    unknownSource("traversal to recovery", "..%2Frecovery%2Fwhoop"), unknownSource("hevy is not pushed", "hevy"),
    del("unknown external_id", "apple_health", "nope"), del("external_id of another source", "whoop", c.appleExternalId),
    del("another user's external_id", "apple_health", c.other.appleExternalId), del("NUL", "apple_health", "%00"),
    del("129 characters", "apple_health", "x".repeat(129)), del("bad percent-encoding", "apple_health", "%E0%A4%A"),
    del("unknown source", "garmin", c.appleExternalId), del("encoded traversal", "apple_health", enc(`../${c.appleExternalId}`)),
  ];
}

function recoveryCases(c: CaseContext, auth: Record<string, string>): BadRequest[] {
  const item = { date: c.recoveryDate, score: 1 };
  const withItem = (label: string, patch: Record<string, unknown>, drop?: string) => {
    const it: Record<string, unknown> = { ...item, ...patch };
    if (drop) delete it[drop];
    return fieldCase(label, { items: [it] });
  };
  const shapes: Shape[] = [
    ...bodyShapes({ items: [item] }),
    withItem("date missing", {}, "date"), withItem("score missing", {}, "score"),
    ...["2026-02-30", "2026-2-3", "20261121", "2026-11-21T00:00:00Z", "", "2026-11-21\u0000", "２０２６-11-21"].map((d) => withItem(`date ${JSON.stringify(d)}`, { date: d })),
    ...[20261121, null].map((d) => withItem(`date ${JSON.stringify(d)}`, { date: d })),
    ...[101, -1, "64", null, true].map((s) => withItem(`score ${JSON.stringify(s)}`, { score: s })),
    rawFieldCase("score 1e400", JSON.stringify({ items: [item] }).replace('"score":1', '"score":1e400')),
    withItem("an extra field", { source: "oura" }),
    fieldCase("a repeated date", { items: [item, item] }),
    fieldCase("a valid item, then an invalid one", { items: [item, { date: "2026-01-01", score: 500 }] }),
    { label: "501 items", headers: JSON_TYPE, body: JSON.stringify({ items: Array.from({ length: 501 }, () => item) }), status: 413, code: "batch_too_large" },
  ];
  const unknown = (source: string): BadRequest => ({
    name: `PUT /api/v1/recovery/${source}: not a recovery source`, method: "PUT", path: `/api/v1/recovery/${source}`, headers: { ...auth, ...JSON_TYPE },
    body: JSON.stringify({ items: [item] }), status: 404, code: "not_found",
  });
  return [...route("PUT", "/api/v1/recovery/whoop", auth, shapes), unknown("apple_health"), unknown("strava"), unknown("WHOOP"), unknown("..%2Fwhoop")];
}

function metricsCases(auth: Record<string, string>): BadRequest[] {
  const weeks: Array<[string, string]> = [
    ["weeks 0", "weeks=0"], ["weeks 105", "weeks=105"], ["weeks -1", "weeks=-1"], ["weeks word", "weeks=twelve"], ["weeks fraction", "weeks=1.5"],
    ["weeks empty", "weeks="], ["weeks exponent", "weeks=1e1"], ["weeks huge", "weeks=99999999999"], ["unknown parameter", "limit=5"],
  ];
  return [
    ...query("/api/v1/hevy/summary", auth, weeks),
    ...query("/api/v1/hevy/trends", auth, weeks.slice(0, 5)),
    ...query("/api/v1/hevy/prs", auth, [["unknown parameter", "limit=5"], ["a cursor it does not take", "cursor=abc"]]),
    ...query("/api/v1/hevy/muscle-groups", auth, [["from malformed", "from=2026-99-01"], ["from after to", "from=2026-03-01&to=2026-01-01"], ["unknown parameter", "weeks=4"], ["to with SQL", `to=${enc("' OR 1=1 --")}`]]),
    ...query("/api/v1/hevy/sessions/latest/recovery", auth, [["unknown parameter", "source=whoop"]]),
  ];
}

function exportCases(c: CaseContext, auth: Record<string, string>): BadRequest[] {
  const shapes: Shape[] = [
    ...bodyShapes({ from: "2026-01-01" }, { emptyIsValid: true }),
    ...["yesterday", "2026-02-30", "2026-11-20T17:02:00", ""].map((v) => fieldCase(`from ${JSON.stringify(v)}`, { from: v })),
    ...[5, null, ["2026-01-01"]].map((v) => fieldCase(`from ${JSON.stringify(v)}`, { from: v })),
    fieldCase("to with SQL", { to: "2026-01-01'); DELETE FROM exports; --" }),
    fieldCase("from after to", { from: "2026-03-01", to: "2026-01-01" }),
  ];
  const get = (label: string, path: string, status = 404, code = "not_found"): BadRequest => ({ name: `GET ${path}: ${label}`, method: "GET", path, headers: auth, status, code });
  return [
    ...route("POST", "/api/v1/exports/hevy-csv", auth, shapes),
    get("not a UUID", "/api/v1/exports/latest"), get("unknown UUID", `/api/v1/exports/${crypto.randomUUID()}`),
    get("another user's export", `/api/v1/exports/${c.other.exportId}`), get("another user's download", `/api/v1/exports/${c.other.exportId}/download`),
    get("id in capitals", `/api/v1/exports/${c.exportId.toUpperCase()}`), get("NUL", "/api/v1/exports/%00"),
    get("encoded traversal", `/api/v1/exports/..%2F${c.other.exportId}`), get("SQL", `/api/v1/exports/${enc("' OR 1=1 --")}/download`),
    get("unknown UUID download", `/api/v1/exports/${crypto.randomUUID()}/download`),
  ];
}

function webhookCases(c: CaseContext): BadRequest[] {
  const path = `/webhooks/hevy/${c.webhook.secret}`;
  const good = { "content-type": "application/json", authorization: c.webhook.authToken };
  const delivery = (payload: unknown) => JSON.stringify({ id: "delivery-1", payload });
  const at = (label: string, p: string, headers: Record<string, string>, body: string, status: number, code: string): BadRequest => ({
    name: `POST ${p.slice(0, 60)}: ${label}`, method: "POST", path: p, headers, body, status, code,
  });
  const ok = delivery({ workoutId: c.workoutId });
  return [
    at("unknown secret", `/webhooks/hevy/${"A".repeat(43)}`, good, ok, 404, "not_found"),
    at("short secret", "/webhooks/hevy/abc", good, ok, 404, "not_found"),
    at("secret plus a character", `${path}x`, good, ok, 404, "not_found"),
    at("secret's stored digest", `/webhooks/hevy/${c.webhook.secretDigest}`, good, ok, 404, "not_found"),
    at("encoded traversal", `/webhooks/hevy/..%2F..%2Fapi%2Fv1%2Fconnections%2Fhevy`, good, ok, 404, "not_found"),
    at("secret with SQL", `/webhooks/hevy/${enc("' OR '1'='1")}`, good, ok, 404, "not_found"),
    at("no Authorization", path, JSON_TYPE, ok, 401, "unauthorized"),
    at("wrong Authorization", path, { ...JSON_TYPE, authorization: "Bearer wrong" }, ok, 401, "unauthorized"),
    at("token without Bearer", path, { ...JSON_TYPE, authorization: c.webhook.authToken.replace(/^Bearer /, "") }, ok, 401, "unauthorized"),
    at("lower-case scheme", path, { ...JSON_TYPE, authorization: c.webhook.authToken.replace(/^Bearer/, "bearer") }, ok, 401, "unauthorized"),
    at("the secret as Authorization", path, { ...JSON_TYPE, authorization: `Bearer ${c.webhook.secret}` }, ok, 401, "unauthorized"),
    at("the user's API token as Authorization", path, { ...JSON_TYPE, authorization: `Bearer ${c.token}` }, ok, 401, "unauthorized"),
    at("invalid JSON", path, good, "{", 400, "invalid_json"),
    at("empty body", path, good, "", 400, "invalid_json"),
    at("empty object", path, good, "{}", 400, "validation_failed"),
    at("payload missing", path, good, JSON.stringify({ id: "d" }), 400, "validation_failed"),
    at("payload null", path, good, delivery(null), 400, "validation_failed"),
    at("id a number", path, good, JSON.stringify({ id: 1, payload: { workoutId: c.workoutId } }), 400, "validation_failed"),
    at("workoutId a number", path, good, delivery({ workoutId: 42 }), 400, "validation_failed"),
    at("workoutId empty", path, good, delivery({ workoutId: "" }), 400, "validation_failed"),
    at("workoutId 65 characters", path, good, delivery({ workoutId: "a".repeat(65) }), 400, "validation_failed"),
    at("workoutId dot-dot", path, good, delivery({ workoutId: ".." }), 400, "validation_failed"),
    at("workoutId path traversal", path, good, delivery({ workoutId: "../user/info" }), 400, "validation_failed"),
    at("workoutId with a query", path, good, delivery({ workoutId: "x?page=2" }), 400, "validation_failed"),
    at("workoutId lone surrogate", path, good, delivery({ workoutId: "a\ud800" }), 400, "validation_failed"),
    at("body over 64 KiB", path, good, JSON.stringify({ id: "d", payload: { workoutId: c.workoutId }, pad: "x".repeat(65 * 1024) }), 413, "payload_too_large"),
  ];
}

function pageCases(c: CaseContext): BadRequest[] {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = { "content-type": "application/x-www-form-urlencoded" };
  const login = { ...FORM, cookie: c.login.cookie };
  const session = { ...FORM, cookie: c.session.cookie };
  const post = (label: string, path: string, headers: Record<string, string>, body: string, status: number): BadRequest => ({
    name: `POST ${path}: ${label}`, method: "POST", path, headers, body, status, page: true,
  });
  const brokenMultipart = { "content-type": "multipart/form-data; boundary=zz" };
  return [
    post("no CSRF token", "/login", FORM, form({ token: c.token }), 403),
    post("CSRF field without its cookie", "/login", FORM, form({ _csrf: c.login.csrf, token: c.token }), 403),
    post("token with SQL", "/login", login, form({ _csrf: c.login.csrf, token: "vt_' OR '1'='1" }), 401),
    post("token of 10,000 characters", "/login", login, form({ _csrf: c.login.csrf, token: "vt_".padEnd(10_000, "x") }), 401),
    post("the token's digest", "/login", login, form({ _csrf: c.login.csrf, token: "0".repeat(64) }), 401),
    post("broken multipart body", "/login", { ...brokenMultipart, cookie: c.login.cookie }, "garbage", 400),
    post("body over 64 KiB", "/login", login, form({ _csrf: c.login.csrf, token: "x".repeat(70_000) }), 413),
    post("no action", "/connections/hevy", session, form({ _csrf: c.session.csrf }), 400),
    post("unknown action", "/connections/hevy", session, form({ _csrf: c.session.csrf, action: "drop_tables" }), 400),
    post("key not a UUID", "/connections/hevy", session, form({ _csrf: c.session.csrf, action: "connect", api_key: "' OR 1=1 --" }), 400),
    post("key Hevy does not know", "/connections/hevy", session, form({ _csrf: c.session.csrf, action: "connect", api_key: crypto.randomUUID() }), 422),
    post("no CSRF token", "/connections/hevy", session, form({ action: "disconnect", purge: "true" }), 403),
    post("wrong CSRF token", "/connections/hevy", session, form({ _csrf: c.login.csrf, action: "disconnect", purge: "true" }), 403),
    post("cross-site origin", "/connections/hevy", { ...session, origin: "https://evil.example" }, form({ _csrf: c.session.csrf, action: "disconnect", purge: "true" }), 403),
    post("broken multipart body", "/connections/hevy", { ...brokenMultipart, cookie: c.session.cookie }, "garbage", 400),
    post("body over 64 KiB", "/connections/hevy", session, form({ _csrf: c.session.csrf, action: "connect", api_key: "x".repeat(70_000) }), 413),
    post("no CSRF token", "/logout", session, form({}), 403),
    post("broken multipart body", "/logout", { ...brokenMultipart, cookie: c.session.cookie }, "garbage", 400),
    {
      name: "GET /connections/hevy/exports/{another user's export}/download", method: "GET", path: `/connections/hevy/exports/${c.other.exportId}/download`,
      headers: { cookie: c.session.cookie }, status: 404, page: true,
    },
    {
      name: "GET /connections/hevy/exports/{traversal}/download", method: "GET", path: "/connections/hevy/exports/..%2F..%2Fapi/download",
      headers: { cookie: c.session.cookie }, status: 404, page: true,
    },
  ];
}

/** Every malformed request of the suite. */
/** Outgoing webhook endpoints (SPEC §15): the user has none, so nothing valid here could touch one of theirs. */
function webhookEndpointCases(auth: Record<string, string>): BadRequest[] {
  const path = "/api/v1/webhook-endpoints";
  const url = "https://consumer.test/hooks";
  const shapes: Shape[] = [
    ...bodyShapes({ url }),
    fieldCase("url missing", { events: ["hevy.workout.created"] }),
    ...[42, null, [], { href: url }, true].map((u) => fieldCase(`url ${JSON.stringify(u)}`, { url: u })),
    ...["", "consumer.test/hooks", "http://consumer.test/hooks", "http://localhost:3000/x", "ftp://consumer.test/x", "javascript:alert(1)", "https://u:p@consumer.test/x",
      `${url}\n`, `${url}\u0000`, " https://consumer.test/x", "https://127.0.0.1/x", "https://169.254.169.254/latest/meta-data", `https://consumer.test/${"x".repeat(2050)}`]
      .map((u) => fieldCase(`url ${JSON.stringify(u.slice(0, 40))}`, { url: u })),
    ...[[], ["ping"], ["hevy.workout.*"], ["HEVY.WORKOUT.CREATED"], "hevy.workout.created", [42], null, Array(21).fill("hevy.workout.created")]
      .map((events) => fieldCase(`events ${JSON.stringify(events).slice(0, 40)}`, { url, events })),
    ...[42, "x".repeat(257), "a\u0000b", "two\nlines"].map((d) => fieldCase(`description ${JSON.stringify(d).slice(0, 30)}`, { url, description: d })),
    fieldCase("a secret of its own", { url, secret: "whsec_AAAA" }),
  ];
  const unknown = crypto.randomUUID();
  const byId = (method: string, id: string, suffix = ""): BadRequest => ({
    name: `${method} ${path}/${id.slice(0, 40)}${suffix}: no such endpoint`, method, path: `${path}/${id}${suffix}`, headers: auth, status: 404, code: "not_found",
    body: method === "GET" ? undefined : "",
  });
  return [
    ...route("POST", path, auth, shapes),
    ...query(path, auth, listParams()),
    ...query(`${path}/${unknown}/deliveries`, auth, listParams([["status unknown", "status=lost"], ["status in capitals", "status=FAILED"], ["status twice", "status=failed&status=pending"]])),
    ...["GET", "DELETE"].flatMap((m) => [unknown, "not-an-id", unknown.toUpperCase(), enc("' OR '1'='1"), "..%2F..%2Fadmin%2Fv1%2Fusers"].map((id) => byId(m, id))),
    ...["/rotate-secret", "/test", "/enable"].map((suffix) => byId("POST", unknown, suffix)),
    byId("GET", unknown, "/deliveries"),
  ];
}

export function badRequests(c: CaseContext): BadRequest[] {
  const auth = { authorization: `Bearer ${c.token}` };
  const admin = { authorization: `Bearer ${c.adminToken}` };
  return [
    ...adminCases(c, admin),
    ...connectionCases(c, auth),
    ...workoutCases(c, auth),
    ...sourceCases(c, auth),
    ...recoveryCases(c, auth),
    ...metricsCases(auth),
    ...exportCases(c, auth),
    ...webhookEndpointCases(auth),
    ...webhookCases(c),
    ...pageCases(c),
    ...wrongMethods(c, auth, admin),
    { name: "GET /api/v1/nope: unknown route", method: "GET", path: "/api/v1/nope", headers: auth, status: 404, code: "not_found" },
    { name: "GET /api/v2/workouts/hevy: unknown version", method: "GET", path: "/api/v2/workouts/hevy", headers: auth, status: 404, code: "not_found" },
    { name: "GET /api/v1/workouts/hevy/: trailing slash", method: "GET", path: "/api/v1/workouts/hevy/", headers: auth, status: 404, code: "not_found" },
  ];
}
