import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { type RealisticUser, cookiePair, csrfField, logIn, realisticUser } from "./hardening-fixture";
import { ADMIN_TOKEN, callWorker, dbOf, type TestContext, useTestContext } from "./helpers";

// How each secret is checked. Secrets checked against one known value (the
// admin token, the webhook's Authorization, CSRF tokens) must go through
// crypto.subtle.timingSafeEqual — watched here with a spy, over SHA-256 digests
// so that length leaks nothing either. Secrets that find a row (API tokens,
// webhook secrets) are never compared at all: only their digest reaches SQL,
// as an index probe, which tells an attacker nothing about the secret.

const sha256 = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const view = (b: unknown) => (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength));

function spyCompare() {
  const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
  /** The pairs of byte strings compared since the last call. */
  return () => {
    const pairs = spy.mock.calls.map(([a, b]) => [hex(view(a)), hex(view(b))]);
    spy.mockClear();
    return pairs;
  };
}

/** A D1 binding that records every statement's SQL and bound values. */
function recordingD1(d1: D1Database, seen: Array<{ sql: string; values: unknown[] }>): D1Database {
  const REAL = Symbol("real");
  const wrap = (real: D1PreparedStatement, sql: string, values: unknown[]): D1PreparedStatement => {
    seen.push({ sql, values });
    const run = (key: "first" | "all" | "run" | "raw") => (...args: unknown[]) => (real[key] as (...a: unknown[]) => unknown).apply(real, args);
    return { [REAL]: real, bind: (...v: unknown[]) => wrap(real.bind(...v), sql, v), first: run("first"), all: run("all"), run: run("run"), raw: run("raw") } as unknown as D1PreparedStatement;
  };
  return {
    prepare: (sql: string) => wrap(d1.prepare(sql), sql, []),
    batch: (statements: D1PreparedStatement[]) => d1.batch(statements.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? s)),
    exec: (q: string) => d1.exec(q),
    // Requests read a user's shard through a D1 session (src/db/sessions.ts): recorded the same way.
    withSession: (constraint?: string) => {
      const session = d1.withSession(constraint);
      return Object.assign(recordingD1(session as unknown as D1Database, seen), { getBookmark: () => session.getBookmark() });
    },
  } as unknown as D1Database;
}

/** Every database binding (the directory and each shard, SPEC §12) wrapped by `wrapD1`. */
async function requestWithD1(t: TestContext, wrapD1: (d1: D1Database) => D1Database, path: string, init: RequestInit) {
  return callWorker(t.env, path, { ...init, app: createApp({ deps: { wrapD1 } }) });
}

describe("secrets are compared in constant time, or not compared at all", () => {
  const t = useTestContext();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("admin token: timingSafeEqual over SHA-256 digests, whatever the length sent", async () => {
    const compared = spyCompare();
    const json = { email: `timing-${crypto.randomUUID()}@example.com` };
    for (const sent of [`${ADMIN_TOKEN.slice(0, -1)}X`, "short", `${ADMIN_TOKEN}-and-more`]) {
      const res = await t.request("/admin/v1/users", { method: "POST", token: sent, json });
      expect(res.status).toBe(401);
      expect(compared()).toEqual([[hex(await sha256(sent)), hex(await sha256(ADMIN_TOKEN))]]);
    }
    expect((await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json })).status).toBe(201);
    const good = hex(await sha256(ADMIN_TOKEN));
    expect(compared()).toEqual([[good, good]]);
  });

  it("webhook Authorization: timingSafeEqual against the token Hevy was given", async () => {
    const fx = await realisticUser(t, { workouts: 2 });
    const compared = spyCompare();
    const deliver = (authorization: string) =>
      t.request(`/webhooks/hevy/${fx.webhook.secret}`, { method: "POST", headers: { authorization }, json: { id: "d-1", payload: { workoutId: fx.workoutIds[0] } } });
    const expected = hex(await sha256(fx.webhook.authToken));
    for (const sent of ["Bearer wrong", fx.webhook.authToken.slice(0, -1), `${fx.webhook.authToken}x`]) {
      expect((await deliver(sent)).status).toBe(401);
      expect(compared()).toEqual([[hex(await sha256(sent)), expected]]);
    }
    expect((await deliver(fx.webhook.authToken)).status).toBe(200);
    expect(compared()).toEqual([[expected, expected]]);
  });

  it("CSRF tokens of the login form and of session forms: timingSafeEqual", async () => {
    const fx = await realisticUser(t, { workouts: 2 });
    const session = await logIn(t, fx.user.token);
    const form = await t.request("/login");
    const loginCookie = cookiePair(form, "vt_login");
    const loginCsrf = csrfField(await form.text());
    const compared = spyCompare();
    const post = (path: string, cookie: string, fields: Record<string, string>) =>
      t.request(path, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });

    expect((await post("/login", loginCookie, { _csrf: `${loginCsrf}x`, token: fx.user.token })).status).toBe(403);
    expect(compared()).toEqual([[hex(await sha256(`${loginCsrf}x`)), hex(await sha256(loginCookie.slice("vt_login=".length)))]]);
    expect((await post("/connections/hevy", session.cookie, { _csrf: "forged", action: "sync" })).status).toBe(403);
    expect(compared()).toEqual([[hex(await sha256("forged")), hex(await sha256(session.csrf))]]);
    expect((await post("/connections/hevy", session.cookie, { _csrf: session.csrf, action: "sync" })).status).toBe(303);
    expect(compared()).toEqual([[hex(await sha256(session.csrf)), hex(await sha256(session.csrf))]]);
  });

  it("API tokens and webhook secrets find their row by SHA-256 digest: the plaintext never reaches SQL", async () => {
    const fx: RealisticUser = await realisticUser(t, { workouts: 2 });
    const seen: Array<{ sql: string; values: unknown[] }> = [];
    const d1 = (real: D1Database) => recordingD1(real, seen);
    const bound = () => JSON.stringify(seen.map((s) => s.values));

    const api = await requestWithD1(t, d1, "/api/v1/connections/hevy", { headers: { authorization: `Bearer ${fx.user.token}` } });
    expect(api.status).toBe(200);
    expect(bound()).toContain(hex(await sha256(fx.user.token)));
    expect(bound()).not.toContain(fx.user.token);
    expect(seen.map((s) => s.sql).join("\n")).not.toContain(fx.user.token);

    seen.length = 0;
    const hook = await requestWithD1(t, d1, `/webhooks/hevy/${fx.webhook.secret}`, {
      method: "POST",
      headers: { authorization: fx.webhook.authToken, "content-type": "application/json" },
      body: JSON.stringify({ id: "d-2", payload: { workoutId: fx.workoutIds[0] } }),
    });
    expect(hook.status).toBe(200);
    expect(bound()).toContain(hex(await sha256(fx.webhook.secret)));
    expect(bound()).not.toContain(fx.webhook.secret);
    expect(bound()).not.toContain(fx.webhook.authToken.replace(/^Bearer /, ""));

    // At rest too: the token and the secret are stored only as those digests.
    const token = await env.DB.prepare("SELECT token_digest FROM api_tokens WHERE user_id = ?").bind(fx.user.id).first<{ token_digest: string }>();
    expect(token?.token_digest).toBe(hex(await sha256(fx.user.token)));
    const conn = await (await dbOf(fx.user.id)).prepare("SELECT webhook_secret_digest FROM hevy_connections WHERE user_id = ?").bind(fx.user.id).first<{ webhook_secret_digest: string }>();
    expect(conn?.webhook_secret_digest).toBe(hex(await sha256(fx.webhook.secret)));
    // The directory's route to the user's shard is keyed by the same digest (SPEC §12).
    const routes = await env.DB.prepare("SELECT secret_digest FROM webhook_routes WHERE user_id = ?").bind(fx.user.id).all<{ secret_digest: string }>();
    expect(routes.results.map((r) => r.secret_digest)).toEqual([hex(await sha256(fx.webhook.secret))]);
  });
});
