import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { Keyring, sha256Hex } from "../src/lib/crypto";
import { sealSession, type Session } from "../src/lib/session";
import { cookiePair, logIn, realisticUser, userState } from "./hardening-fixture";
import { createUser, type TestContext, useTestContext } from "./helpers";

// Cookie and CSRF rules of the server-rendered pages. The page routes are read
// from the app itself, so a page added later (the /hevy hub, a download link)
// is held to the same rules without touching this file.

// /docs, the API reference, is public as the document it renders is (SPEC §14; test/docs.test.ts).
const isPage = (path: string) => !/^\/(api|admin|webhooks|assets|docs)(\/|$)/.test(path) && path !== "/" && path !== "/login";

function pageRoutes(method: "GET" | "POST"): string[] {
  const paths = createApp().routes.filter((r) => r.method === method && isPage(r.path)).map((r) => r.path.replace(/:[^/]+/g, crypto.randomUUID()));
  return [...new Set(paths)];
}

function attributes(setCookie: string): Record<string, string> {
  const [, ...attrs] = setCookie.split(";").map((s) => s.trim());
  return Object.fromEntries(attrs.map((a) => { const [k, ...v] = a.split("="); return [k!.toLowerCase(), v.join("=")]; }));
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const post = (t: TestContext, path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  t.request(path, { method: "POST", headers: { ...FORM, cookie, ...headers }, body: new URLSearchParams(fields).toString() });

describe("page sessions: cookies and CSRF", () => {
  const t = useTestContext();

  it("seals the session in an HttpOnly, Secure, SameSite=Lax cookie for 12 hours that shows nothing in clear; the login CSRF cookie is Strict and scoped to /login", async () => {
    const user = await createUser(t);
    const form = await t.request("/login");
    const loginCookie = form.headers.getSetCookie().find((c) => c.startsWith("vt_login="))!;
    expect(attributes(loginCookie)).toMatchObject({ httponly: "", secure: "", samesite: "Strict", path: "/login", "max-age": "600" });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const res = await post(t, "/login", loginCookie.split(";")[0]!, { _csrf: csrf, token: user.token });
    expect(res.status).toBe(303);
    const line = res.headers.getSetCookie().find((c) => c.startsWith("vt_session="))!;
    expect(attributes(line)).toMatchObject({ httponly: "", secure: "", samesite: "Lax", path: "/", "max-age": String(12 * 3600) });
    const value = decodeURIComponent(line.split(";")[0]!.slice("vt_session=".length));
    expect(value).toMatch(/^v1:[0-9a-f]{16}:[\w-]+:[\w-]+$/);
    const session = await logIn(t, user.token);
    for (const clear of [user.token, user.token.slice(3), user.id, user.email, session.csrf, await sha256Hex(user.token)]) {
      expect(value).not.toContain(clear);
      expect(session.cookie).not.toContain(clear);
    }
    // The login cookie is spent once used.
    expect(res.headers.getSetCookie().some((c) => c.startsWith("vt_login=") && /max-age=0|expires=thu, 01 jan 1970/i.test(c))).toBe(true);
  });

  it("sends every page behind a session to /login unless the cookie is live, genuine, unexpired, its session row live and its token unrevoked", async () => {
    const gets = pageRoutes("GET");
    expect(gets).toEqual(expect.arrayContaining(["/connections/hevy", "/connections/hevy/status"]));
    const user = await createUser(t);
    const live = await logIn(t, user.token);
    const revokedUser = await createUser(t);
    const revoked = await logIn(t, revokedUser.token);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?").bind(revokedUser.id).run();
    const rowOf = async (userId: string) => (await env.DB.prepare("SELECT id FROM page_sessions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1").bind(userId).first<{ id: string }>())!.id;
    const session = { sessionId: await rowOf(user.id), userId: user.id, tokenDigest: await sha256Hex(user.token), csrf: "c".repeat(32) };
    const loggedOut = await logIn(t, user.token);
    expect((await post(t, "/logout", loggedOut.cookie, { _csrf: loggedOut.csrf })).status).toBe(303);
    const expiredRow = await logIn(t, user.token);
    await env.DB.prepare("UPDATE page_sessions SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, await rowOf(user.id)).run();
    const neighbour = await createUser(t);
    await logIn(t, neighbour.token);
    const { sessionId: _, ...withoutId } = session;
    const otherKey = await Keyring.load(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))));
    const realKey = await Keyring.load(env.KEY_ENCRYPTION_KEY);
    const sealed = live.cookie.slice("vt_session=".length);
    const cookies: Array<[string, string]> = [
      ["no cookie", ""],
      ["garbage", "vt_session=abc"],
      ["tampered", `vt_session=${sealed.slice(0, -3)}${sealed.endsWith("AAA") ? "BBB" : "AAA"}`],
      ["sealed under another key", `vt_session=${await sealSession(otherKey, { ...session, expiresAt: Date.now() + 60_000 })}`],
      ["expired", `vt_session=${await sealSession(realKey, { ...session, expiresAt: Date.now() - 1000 })}`],
      ["for another user id", `vt_session=${await sealSession(realKey, { ...session, userId: revokedUser.id, expiresAt: Date.now() + 60_000 })}`],
      ["of a revoked token", revoked.cookie],
      ["copied before its logout", loggedOut.cookie],
      ["whose session row expired", expiredRow.cookie],
      ["naming another user's session row", `vt_session=${await sealSession(realKey, { ...session, sessionId: await rowOf(neighbour.id), expiresAt: Date.now() + 60_000 })}`],
      ["sealed before sessions had rows (no session id)", `vt_session=${await sealSession(realKey, { ...withoutId, expiresAt: Date.now() + 60_000 } as Session)}`],
      ["in another cookie's name", `vt_login=${sealed}`],
    ];
    const failures: string[] = [];
    for (const path of [...gets, ...pageRoutes("POST")]) {
      const method = gets.includes(path) ? "GET" : "POST";
      for (const [label, cookie] of cookies) {
        const res = await t.request(path, { method, headers: cookie ? { cookie, ...FORM } : FORM, body: method === "POST" ? "_csrf=x" : undefined });
        if (res.status !== 302 || res.headers.get("location") !== "/login") failures.push(`${method} ${path} with ${label}: ${res.status} ${res.headers.get("location")}`);
      }
    }
    expect(failures).toEqual([]);
    // The genuine cookie is accepted, so the refusals above are about the cookie.
    expect((await t.request("/connections/hevy", { headers: { cookie: live.cookie } })).status).toBe(200);
  });

  it("refuses every form post without the session's own CSRF token or from another site, and changes nothing", async () => {
    const fx = await realisticUser(t, { workouts: 3 });
    const session = await logIn(t, fx.user.token);
    const stranger = await logIn(t, (await createUser(t)).token);
    const newKey = t.hevy.issueKey(fx.apiKey);
    const before = await userState(fx.user.id);
    const hevyBefore = t.hevy.requests.length;
    const forms: Array<[string, Record<string, string>]> = [
      ["/logout", {}],
      ...["sync", "rotate", "export"].map((action): [string, Record<string, string>] => ["/connections/hevy", { action }]),
      ["/connections/hevy", { action: "connect", api_key: newKey }],
      ["/connections/hevy", { action: "disconnect", purge: "true" }],
    ];
    expect(pageRoutes("POST").sort()).toEqual([...new Set(forms.map(([p]) => p))].sort());
    const attempts: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["no token", {}, {}],
      ["an empty token", { _csrf: "" }, {}],
      ["a wrong token", { _csrf: "x".repeat(32) }, {}],
      ["another session's token", { _csrf: stranger.csrf }, {}],
      ["a cross-site Origin", { _csrf: session.csrf }, { origin: "https://evil.example" }],
      ["Origin null", { _csrf: session.csrf }, { origin: "null" }],
      ["a look-alike Origin", { _csrf: session.csrf }, { origin: "https://vitaltrends.test.evil.example" }],
    ];
    const failures: string[] = [];
    for (const [path, fields] of forms) {
      for (const [label, extra, headers] of attempts) {
        const body = { ...fields, ...extra };
        const res = await post(t, path, session.cookie, body, headers);
        const type = res.headers.get("content-type") ?? "";
        if (res.status !== 403 || !type.startsWith("text/html")) failures.push(`${path} ${JSON.stringify(fields)} with ${label}: ${res.status} ${type}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await userState(fx.user.id)).toEqual(before);
    expect(t.queue.messages).toEqual([]);
    expect(t.hevy.requests.length).toBe(hevyBefore);
    // With its own token and a same-origin Origin the same form works, and the session outlived the refused logouts.
    const ok = await post(t, "/connections/hevy", session.cookie, { _csrf: session.csrf, action: "sync" }, { origin: "https://vitaltrends.test" });
    expect(ok.status).toBe(303);
    expect(t.queue.messages).toEqual([{ type: "delta", userId: fx.user.id, reason: "manual" }]);
  });

  it("ends the session on logout with an expired cookie, and sends pages with a strict CSP, nosniff and no-store", async () => {
    const user = await createUser(t);
    const session = await logIn(t, user.token);
    for (const path of ["/login", ...pageRoutes("GET").filter((p) => !p.includes("/exports/"))]) {
      const res = await t.request(path, { headers: { cookie: session.cookie } });
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get("content-security-policy"), path).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get("content-security-policy"), path).toMatch(/form-action 'self'/);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("cache-control"), path).toBe("no-store");
    }
    const out = await post(t, "/logout", session.cookie, { _csrf: session.csrf });
    expect(out.status).toBe(303);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith("vt_session="))!;
    expect(cookiePair(out, "vt_session")).toBe("vt_session=");
    expect(attributes(cleared)).toMatchObject({ "max-age": "0", path: "/", secure: "", httponly: "" });
  });
});
