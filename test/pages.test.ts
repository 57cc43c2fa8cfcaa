import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HevyWorkout } from "./fakes/hevy";
import { createUser, useTestContext, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill } from "./queue-helpers";

/** A tiny browser: keeps cookies, follows nothing, reads the CSRF field out of the page. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly t: TestContext) {}

  async go(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    let body: string | undefined;
    if (init.form) {
      headers.set("content-type", "application/x-www-form-urlencoded");
      body = new URLSearchParams(init.form).toString();
    }
    const res = await this.t.request(path, { method: init.method ?? (init.form ? "POST" : "GET"), headers, body });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...value] = pair!.split("=");
      const v = value.join("=");
      if (v === "" || /max-age=0/i.test(line)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), v);
    }
    return res;
  }

  static csrf(html: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error("no CSRF field on the page");
    return m[1]!;
  }

  async login(user: TestUser) {
    const page = await (await this.go("/login")).text();
    const res = await this.go("/login", { form: { _csrf: Browser.csrf(page), token: user.token } });
    expect(res.status).toBe(303);
    return res;
  }
}

describe("pages: login, session cookie and CSRF", () => {
  const t = useTestContext();

  it("redirects to /login without a session", async () => {
    for (const path of ["/hevy", "/connections/hevy", "/connections/hevy/status", `/connections/hevy/exports/${crypto.randomUUID()}/download`]) {
      const res = await new Browser(t).go(path);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("/login");
    }
  });

  it("logs in with an API token into a sealed HttpOnly, Secure, SameSite=Lax cookie holding no token", async () => {
    const user = await createUser(t);
    const browser = new Browser(t);
    const login = await browser.go("/login");
    expect(login.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(login.headers.getSetCookie().join()).toMatch(/vt_login=.*HttpOnly.*Secure.*SameSite=Strict/);

    const res = await browser.go("/login", { form: { _csrf: Browser.csrf(await login.text()), token: user.token } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/hevy");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("vt_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toContain(user.token);
    expect(cookie).not.toContain(user.token.slice(3, 20));
    const page = await browser.go("/connections/hevy");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Connect Hevy");
  });

  it("refuses a login without the login form's CSRF token, and a wrong token with an inline error", async () => {
    const user = await createUser(t);
    const browser = new Browser(t);
    const page = await (await browser.go("/login")).text();
    expect((await browser.go("/login", { form: { _csrf: "forged", token: user.token } })).status).toBe(403);
    const wrong = await browser.go("/login", { form: { _csrf: Browser.csrf(page), token: "vt_nope" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("unknown or revoked");
    expect(browser.cookies.has("vt_session")).toBe(false);
  });

  it("protects every form with the session's CSRF token and refuses cross-site origins", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    const browser = new Browser(t);
    await browser.login(user);
    const csrf = Browser.csrf(await (await browser.go("/connections/hevy")).text());
    const forms: Array<Record<string, string>> = [{ action: "connect", api_key: account.apiKey }, { action: "connect", api_key: account.apiKey, _csrf: "x" }];
    for (const form of forms) {
      expect((await browser.go("/connections/hevy", { form })).status).toBe(403);
    }
    const crossSite = await browser.go("/connections/hevy", {
      form: { action: "connect", api_key: account.apiKey, _csrf: csrf },
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect(t.hevy.requests).toHaveLength(0);
    expect(await env.DB.prepare("SELECT 1 FROM hevy_connections WHERE user_id = ?").bind(user.id).first()).toBeNull();
  });

  it("connects from the page, showing Hevy's refusal inline", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount({ name: "Page Lifter" });
    const browser = new Browser(t);
    await browser.login(user);
    const csrf = Browser.csrf(await (await browser.go("/connections/hevy")).text());

    const notUuid = await browser.go("/connections/hevy", { form: { action: "connect", api_key: "hello", _csrf: csrf } });
    expect(notUuid.status).toBe(400);
    expect(await notUuid.text()).toContain("not a Hevy API key");

    const invalid = await browser.go("/connections/hevy", { form: { action: "connect", api_key: crypto.randomUUID(), _csrf: csrf } });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain("Hevy did not accept this API key");

    t.hevy.injectFault({ status: 503, match: "/v1/user/info" });
    const down = await browser.go("/connections/hevy", { form: { action: "connect", api_key: account.apiKey, _csrf: csrf } });
    expect(down.status).toBe(502);
    expect(await down.text()).toContain("Hevy could not be reached");

    const ok = await browser.go("/connections/hevy", { form: { action: "connect", api_key: account.apiKey, _csrf: csrf } });
    expect(ok.status).toBe(303);
    const page = await (await browser.go(ok.headers.get("location")!)).text();
    expect(page).toContain("Page Lifter");
    expect(page).toContain("Hevy is connected");
    expect(page).not.toContain(account.apiKey);
    const status = await browser.go("/connections/hevy/status");
    expect(((await status.json()) as { backfill: { state: string } }).backfill.state).toBe("queued");
  });

  it("shows each user only their own connection", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    const a = new Browser(t);
    await a.login(alice);
    const csrf = Browser.csrf(await (await a.go("/connections/hevy")).text());
    await a.go("/connections/hevy", { form: { action: "connect", api_key: t.hevy.createAccount({ name: "Alice H" }).apiKey, _csrf: csrf } });
    const b = new Browser(t);
    await b.login(bob);
    const bobPage = await (await b.go("/connections/hevy")).text();
    expect(bobPage).toContain("Connect Hevy");
    expect(bobPage).not.toContain("Alice H");
    expect((await b.go("/connections/hevy/status")).status).toBe(404);
    // Bob's CSRF token does not work with Alice's session.
    const bobCsrf = Browser.csrf(bobPage);
    expect((await a.go("/connections/hevy", { form: { action: "disconnect", _csrf: bobCsrf } })).status).toBe(403);
  });

  it("ends the session on logout, on token revocation, and ignores a tampered cookie", async () => {
    const user = await createUser(t);
    const browser = new Browser(t);
    await browser.login(user);
    const sealed = browser.cookies.get("vt_session")!;
    const csrf = Browser.csrf(await (await browser.go("/connections/hevy")).text());
    const out = await browser.go("/logout", { form: { _csrf: csrf } });
    expect(out.status).toBe(303);
    expect(browser.cookies.has("vt_session")).toBe(false);

    const tampered = new Browser(t);
    tampered.cookies.set("vt_session", `${sealed.slice(0, -4)}AAAA`);
    expect((await tampered.go("/connections/hevy")).status).toBe(302);

    // A copy of the cookie taken before logout no longer opens a page.
    const replay = new Browser(t);
    replay.cookies.set("vt_session", sealed);
    expect((await replay.go("/connections/hevy")).status).toBe(302);

    const again = new Browser(t);
    await again.login(user);
    expect((await again.go("/connections/hevy")).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?").bind(user.id).run();
    expect((await again.go("/connections/hevy")).status).toBe(302);
  });
});

/** The heaviest non-warm-up weight per template, worked out from the fake's truth. */
function heaviestByTemplate(workouts: HevyWorkout[]): Map<string, number> {
  const best = new Map<string, number>();
  for (const w of workouts)
    for (const e of w.exercises)
      for (const set of e.sets)
        if (set.type !== "warmup" && set.weight_kg !== null && set.weight_kg > 0)
          best.set(e.exercise_template_id, Math.max(best.get(e.exercise_template_id) ?? 0, set.weight_kg));
  return best;
}

describe("pages: the Hevy hub and the CSV export", () => {
  const t = useTestContext();

  async function connectedUser() {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 40, { seed: 21, weeks: 8 });
    const browser = new Browser(t);
    await browser.login(user);
    const csrf = Browser.csrf(await (await browser.go("/connections/hevy")).text());
    await browser.go("/connections/hevy", { form: { action: "connect", api_key: account.apiKey, _csrf: csrf } });
    await drainQueue(t, { backfill: fastBackfill() });
    return { user, account, browser, csrf };
  }

  it("shows the user's weekly volume chart and PR table with the numbers of their history", async () => {
    const { account, browser } = await connectedUser();
    const res = await browser.go("/hevy");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    const html = await res.text();
    const chart = html.slice(html.indexOf('id="volume-chart"'), html.indexOf("</svg>", html.indexOf('id="volume-chart"')));
    expect(chart.match(/class="bar"/g)).toHaveLength(12);
    expect(chart).toContain("volume (kg)");
    const truth = heaviestByTemplate(t.hevy.listWorkouts(account.apiKey));
    expect(truth.size).toBeGreaterThan(3);
    for (const [templateId, kg] of truth) {
      const row = html.slice(html.indexOf(`data-template="${templateId}"`));
      const start = row.indexOf('data-kind="heaviest_weight"');
      const cell = row.slice(start, row.indexOf("</td>", start));
      expect(cell, templateId).toContain(`${kg.toLocaleString("en-US", { maximumFractionDigits: 2 })} kg`);
    }
    const other = new Browser(t);
    await other.login(await createUser(t));
    const empty = await (await other.go("/hevy")).text();
    expect(empty).toContain("Hevy is not connected yet");
    expect(empty).not.toContain("data-template=");
  });

  it("exports a CSV from the page and downloads it through the page's link, for its owner only", async () => {
    const { account, browser, csrf } = await connectedUser();
    const post = await browser.go("/connections/hevy", { form: { action: "export", _csrf: csrf } });
    expect(post.status).toBe(303);
    const queued = (await (await browser.go("/connections/hevy/status")).json()) as { latest_export: { id: string; status: string } };
    expect(queued.latest_export.status).toBe("queued");
    await drainQueue(t);
    const done = (await (await browser.go("/connections/hevy/status")).json()) as { latest_export: { id: string; status: string; row_count: number } };
    const sets = t.hevy.listWorkouts(account.apiKey).reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
    expect(done.latest_export).toMatchObject({ status: "done", row_count: sets });
    const page = await (await browser.go("/connections/hevy")).text();
    expect(page).toContain(`/connections/hevy/exports/${done.latest_export.id}/download`);
    const file = await browser.go(`/connections/hevy/exports/${done.latest_export.id}/download`);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="hevy-sets-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect((await file.text()).split("\r\n")[0]).toBe(
      "workout_id,workout_title,start_time,end_time,duration_seconds,exercise_index,exercise_title,exercise_template_id,superset_id,exercise_notes,set_index,set_type,weight_kg,reps,distance_meters,duration_seconds_set,rpe,custom_metric,workout_updated_at",
    );
    const other = new Browser(t);
    await other.login(await createUser(t));
    expect((await other.go(`/connections/hevy/exports/${done.latest_export.id}/download`)).status).toBe(404);
  });
});
