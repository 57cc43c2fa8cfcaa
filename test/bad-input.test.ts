import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BadRequest, badRequests } from "./bad-input-cases";
import { logIn, realisticUser, tableCounts, userState } from "./hardening-fixture";
import { ADMIN_TOKEN, callWorker, createUser, dbOf, type TestContext, useTestContext } from "./helpers";
import { drainQueue } from "./queue-helpers";

// Hundreds of malformed requests over every route (test/bad-input-cases.ts), sent
// to the Worker's real fetch handler by a user whose data fills every table. Each
// must be answered with the 4xx the contract names — a problem+json with a code
// on the API, an HTML page on the pages — never a 5xx; and afterwards every row
// and file the user owns is byte-for-byte what it was, nothing was queued and
// Hevy was only asked to check the keys the cases made up.

const sha256Hex = async (s: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))].map((b) => b.toString(16).padStart(2, "0")).join("");

async function send(t: TestContext, c: BadRequest): Promise<Response> {
  return callWorker(t.env, c.path, { method: c.method, headers: c.headers, body: c.body });
}

/** What is wrong with the answer to one case, or null when it is the contract's. */
async function judge(c: BadRequest, res: Response): Promise<string | null> {
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  if (res.status >= 500) return `${res.status} ${text.slice(0, 200)}`;
  if (res.status !== c.status) return `expected ${c.status}, got ${res.status}: ${text.slice(0, 200)}`;
  if (c.page && res.status !== 405) return type.startsWith("text/html") ? null : `expected an HTML page, got ${type}`;
  if (!type.startsWith("application/problem+json")) return `expected application/problem+json, got ${type}: ${text.slice(0, 100)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 100)}`;
  }
  if (typeof body.code !== "string" || body.code === "") return `no code: ${text.slice(0, 200)}`;
  if (c.code && body.code !== c.code) return `expected code ${c.code}, got ${body.code}: ${text.slice(0, 200)}`;
  if (body.status !== res.status) return `problem status ${String(body.status)} differs from HTTP ${res.status}`;
  if (typeof body.request_id !== "string" || typeof body.detail !== "string" || typeof body.title !== "string") return `problem lacks fields: ${text.slice(0, 200)}`;
  if (res.status === 405 && !res.headers.get("allow")) return "405 without Allow";
  if (res.status === 400 && body.code === "validation_failed" && !Array.isArray(body.errors)) return "validation_failed without errors[]";
  return null;
}

describe("bad input over every route", () => {
  const t = useTestContext();

  it("answers every generated malformed request with its 4xx, never a 5xx, and changes nothing", async () => {
    const fx = await realisticUser(t, { tag: "owner" });
    const other = await realisticUser(t, { tag: "other", workouts: 3, seed: 11 });
    const session = await logIn(t, fx.user.token);
    const loginPage = await t.request("/login");
    const login = { cookie: loginPage.headers.getSetCookie()[0]!.split(";")[0]!, csrf: /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]! };

    const cases = badRequests({
      token: fx.user.token,
      adminToken: ADMIN_TOKEN,
      userEmail: fx.user.email,
      apiKey: fx.apiKey,
      workoutId: fx.workoutIds[0]!,
      exportId: fx.exportId,
      appleExternalId: fx.externalIds.appleStrength,
      recoveryDate: fx.recoveryDates[1]!,
      other: { workoutId: other.workoutIds[0]!, exportId: other.exportId, appleExternalId: other.externalIds.appleStrength },
      webhook: { secret: fx.webhook.secret, authToken: fx.webhook.authToken, secretDigest: await sha256Hex(fx.webhook.secret) },
      session,
      login,
    });
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);

    const before = await userState(fx.user.id);
    const otherBefore = await userState(other.user.id);
    const countsBefore = await tableCounts();
    // The digest covers real data: these tables hold rows of the user's, and the export file is in R2.
    // (Any other table with a user_id column is in the digest too, empty or not.)
    for (const table of ["users", "api_tokens", "hevy_connections", "hevy_workouts", "hevy_exercises", "hevy_sets",
      "hevy_exercise_templates", "sync_runs", "source_workouts", "daily_recovery", "exports", "r2"]) {
      expect(before.counts[table], table).toBeGreaterThan(0);
    }
    expect(t.queue.messages).toEqual([]);
    const hevyBefore = t.hevy.requests.length;

    const failures: string[] = [];
    for (const c of cases) {
      const problem = await judge(c, await send(t, c));
      if (problem) failures.push(`${c.name} → ${problem}`);
    }
    expect(failures).toEqual([]);

    expect(await userState(fx.user.id)).toEqual(before);
    expect(await userState(other.user.id)).toEqual(otherBefore);
    expect(await tableCounts()).toEqual(countsBefore);
    expect(t.queue.messages).toEqual([]);
    // Only the made-up keys reached Hevy (PUT's and the page's "a UUID Hevy does not know"), and Hevy refused them.
    const hevyCalls = t.hevy.requests.slice(hevyBefore);
    expect(hevyCalls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(["GET /v1/user/info 401", "GET /v1/user/info 401"]);
    expect(hevyCalls.some((r) => r.apiKey === fx.apiKey)).toBe(false);
    // The session still works: no case logged the user out or broke the connection.
    expect((await t.request("/connections/hevy", { headers: { cookie: session.cookie } })).status).toBe(200);
    expect((await t.request("/api/v1/connections/hevy", { token: fx.user.token })).status).toBe(200);
  });

  it("the digest moves when any one stored value moves", async () => {
    // Guards the test above: a digest that ignored a table would pass it vacuously.
    const fx = await realisticUser(t, { workouts: 2 });
    const base = await userState(fx.user.id);
    const edits: Array<[string, string]> = [
      ["users", "UPDATE users SET timezone = 'UTC' WHERE id = ?1"],
      ["api_tokens", "UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?1"],
      ["hevy_connections", "UPDATE hevy_connections SET api_key_envelope = api_key_envelope || 'x' WHERE user_id = ?1"],
      ["hevy_workouts", "UPDATE hevy_workouts SET title = title || '.' WHERE user_id = ?1"],
      ["hevy_exercises", "UPDATE hevy_exercises SET notes = 'n' WHERE workout_key IN (SELECT key FROM hevy_workouts WHERE user_id = ?1)"],
      ["hevy_sets", "UPDATE hevy_sets SET reps = coalesce(reps, 0) + 1 WHERE workout_key IN (SELECT key FROM hevy_workouts WHERE user_id = ?1)"],
      ["hevy_exercise_templates", "UPDATE hevy_exercise_templates SET title = title || '.' WHERE user_id = ?1"],
      ["sync_runs", "UPDATE sync_runs SET upserts = upserts + 1 WHERE user_id = ?1"],
      ["source_workouts", "UPDATE source_workouts SET calories_kcal = 1 WHERE user_id = ?1"],
      ["daily_recovery", "UPDATE daily_recovery SET score = score + 1 WHERE user_id = ?1"],
      ["exports", "UPDATE exports SET size_bytes = size_bytes + 1 WHERE user_id = ?1"],
    ];
    // The directory's tables there, the rest (and the shard's copy of the user row) in the user's shard (SPEC §12).
    const directoryTables = new Set(["users", "api_tokens"]);
    edits.push(["users (the shard's copy)", "UPDATE users SET timezone = 'Asia/Tokyo' WHERE id = ?1"]);
    const shard = await dbOf(fx.user.id);
    let previous = base.digest;
    for (const [table, sql] of edits) {
      await (directoryTables.has(table) ? env.DB : shard).prepare(sql).bind(fx.user.id).run();
      const now = await userState(fx.user.id);
      expect(now.digest, table).not.toBe(previous);
      previous = now.digest;
    }
    await env.EXPORTS.put(`exports/${fx.user.id}/${fx.exportId}.csv`, "changed");
    expect((await userState(fx.user.id)).digest).not.toBe(previous);
  });

  it("leaves the queue and stored data alone when a bad request comes from a user with nothing stored", async () => {
    // No connection, no rows: the routes that change state must still refuse before writing.
    const user = await createUser(t);
    const before = await userState(user.id);
    const res = await t.request("/api/v1/sources/strava/workouts", { method: "PUT", token: user.token, json: { items: [{ external_id: "x" }] } });
    expect(res.status).toBe(400);
    expect((await t.request("/api/v1/connections/hevy/sync", { method: "POST", token: user.token })).status).toBe(404);
    expect((await t.request("/api/v1/connections/hevy?purge=true", { method: "DELETE", token: user.token })).status).toBe(404);
    await drainQueue(t);
    expect(await userState(user.id)).toEqual(before);
  });
});
