import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cookiePair, logIn } from "./hardening-fixture";
import { createUser, type TestContext, useTestContext } from "./helpers";

// Page sessions live on the server (page_sessions rows): logout and expiry end
// them for every copy of the cookie, not only for the browser that logged out.

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const post = (t: TestContext, path: string, cookie: string, fields: Record<string, string>) =>
  t.request(path, { method: "POST", headers: { ...FORM, cookie }, body: new URLSearchParams(fields).toString() });

async function expectLogin(res: Response) {
  expect(res.status).toBe(302);
  expect(res.headers.get("location")).toBe("/login");
}

const page = (t: TestContext, path: string, cookie: string) => t.request(path, { headers: { cookie } });

describe("page sessions on the server", () => {
  const t = useTestContext();

  it("POST /logout ends the session: a copy of the cookie taken before opens no page and posts no form", async () => {
    const user = await createUser(t);
    const session = await logIn(t, user.token);
    const copy = session.cookie;
    expect((await page(t, "/hevy", copy)).status).toBe(200);

    const out = await post(t, "/logout", session.cookie, { _csrf: session.csrf });
    expect(out.status).toBe(303);
    expect(cookiePair(out, "vt_session")).toBe("vt_session=");

    await expectLogin(await page(t, "/hevy", copy));
    await expectLogin(await page(t, "/connections/hevy", copy));
    await expectLogin(await page(t, "/connections/hevy/status", copy));
    await expectLogin(await post(t, "/connections/hevy", copy, { _csrf: session.csrf, action: "sync" }));
    await expectLogin(await post(t, "/logout", copy, { _csrf: session.csrf }));
    expect(t.queue.messages).toEqual([]);
    // Logging in again works and opens pages.
    const again = await logIn(t, user.token);
    expect((await page(t, "/hevy", again.cookie)).status).toBe(200);
  });

  it("a second session of the same user, logged in separately, keeps working after the first logs out", async () => {
    const user = await createUser(t);
    const phone = await logIn(t, user.token);
    const laptop = await logIn(t, user.token);
    expect((await post(t, "/logout", phone.cookie, { _csrf: phone.csrf })).status).toBe(303);

    await expectLogin(await page(t, "/connections/hevy", phone.cookie));
    expect((await page(t, "/connections/hevy", laptop.cookie)).status).toBe(200);
    expect((await page(t, "/hevy", laptop.cookie)).status).toBe(200);
    // The laptop's own CSRF token still posts its forms, and its own logout still works.
    expect((await post(t, "/logout", laptop.cookie, { _csrf: laptop.csrf })).status).toBe(303);
    await expectLogin(await page(t, "/hevy", laptop.cookie));
  });

  it("another user's logout leaves my session alone", async () => {
    const me = await logIn(t, (await createUser(t)).token);
    const other = await logIn(t, (await createUser(t)).token);
    expect((await post(t, "/logout", other.cookie, { _csrf: other.csrf })).status).toBe(303);
    expect((await page(t, "/hevy", me.cookie)).status).toBe(200);
  });

  it("redirects to /login once the session's row has expired, even while the cookie's own expiry is ahead", async () => {
    const user = await createUser(t);
    const session = await logIn(t, user.token);
    expect((await page(t, "/connections/hevy", session.cookie)).status).toBe(200);
    await env.DB.prepare("UPDATE page_sessions SET expires_at = ? WHERE user_id = ?").bind(Date.now() - 1000, user.id).run();
    await expectLogin(await page(t, "/connections/hevy", session.cookie));
    await expectLogin(await page(t, "/hevy", session.cookie));
  });

  it("revoking the API token still ends every session made with it", async () => {
    const user = await createUser(t);
    const first = await logIn(t, user.token);
    const second = await logIn(t, user.token);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?").bind(user.id).run();
    await expectLogin(await page(t, "/hevy", first.cookie));
    await expectLogin(await page(t, "/connections/hevy", second.cookie));
  });

  it("logging in clears that user's expired session rows and keeps live ones and other users' rows", async () => {
    const user = await createUser(t);
    const other = await createUser(t);
    const live = await logIn(t, user.token);
    await logIn(t, user.token);
    await logIn(t, other.token);
    const past = Date.now() - 1000;
    // Expire every row but the live session's (which is the oldest of the user's two rows).
    const firstRow = await env.DB.prepare("SELECT id FROM page_sessions WHERE user_id = ? ORDER BY created_at, rowid LIMIT 1").bind(user.id).first<{ id: string }>();
    await env.DB.prepare("UPDATE page_sessions SET expires_at = ? WHERE id != ?").bind(past, firstRow!.id).run();
    const rows = async (userId: string) => (await env.DB.prepare("SELECT id FROM page_sessions WHERE user_id = ?").bind(userId).all()).results.length;
    expect([await rows(user.id), await rows(other.id)]).toEqual([2, 1]);

    await logIn(t, user.token);
    expect([await rows(user.id), await rows(other.id)]).toEqual([2, 1]);
    expect((await page(t, "/hevy", live.cookie)).status).toBe(200);
  });
});
