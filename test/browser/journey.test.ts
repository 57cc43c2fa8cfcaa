// SPEC §9, §13 in headless Chromium: a person's way through the pages (hub → a PR's
// workout → the exercise's progress → the unified feed filtered to Apple Health →
// back), the feed's paging, another user's workout as the 404 page, every page at
// desktop and phone width (no sideways overflow, axe-core clean, screenshots), and
// the keyboard alone; and the API reference at /docs (SPEC §14).
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createUser } from "../../scripts/local-worker.ts";
import type { HevyWorkout } from "../fakes/hevy.ts";
import { connectAndBackfill, expectAxeClean, expectNoSidewaysOverflow, type Focused, focused, focusIsVisible, logIn, navBoxes } from "./checks.ts";
import { chromiumAvailable, DESKTOP, type Harness, PHONE, screenshotPath, startHarness } from "./harness.ts";

const run = chromiumAvailable || process.env.CI ? describe : describe.skip;

/** Hevy workouts of the user: more than two pages of the feed (20 a page). */
const HISTORY = 48;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Pr { exercise_template_id: string; exercise_title: string; kind: string; value: number; workout_id: string }

/** What beforeAll puts in place, read by the tests. */
interface World {
  storageState: Awaited<ReturnType<BrowserContext["storageState"]>>;
  /** The PR the journey follows: the heaviest weight of the first exercise in the hub's PR table that has one. */
  pr: Pr;
  /** Its Hevy workout, merged with an Apple Health strength workout. */
  prWorkout: HevyWorkout;
  /** The wake-up day after the latest session, with WHOOP and Oura readings. */
  wakeDay: string;
  /** A workout of another user. */
  othersWorkout: HevyWorkout;
  otherToken: string;
}

/** Every page, checked and photographed at both widths. `path` is resolved once the data exists. */
const PAGES: Array<{ name: string; path: (w: World) => string; heading: (w: World) => string; status?: number }> = [
  { name: "login", path: () => "/login", heading: () => "Log in" },
  { name: "hub", path: () => "/hevy", heading: () => "Hevy hub" },
  { name: "connections-hevy", path: () => "/connections/hevy", heading: () => "Connections → Hevy" },
  { name: "workouts", path: () => "/workouts", heading: () => "Workouts" },
  { name: "workouts-apple-health", path: () => "/workouts?source=apple_health", heading: () => "Workouts" },
  { name: "workout", path: (w) => `/workouts/hevy/${w.prWorkout.id}`, heading: (w) => w.prWorkout.title },
  { name: "exercise", path: (w) => `/hevy/exercises/${encodeURIComponent(w.pr.exercise_template_id)}`, heading: (w) => w.pr.exercise_title },
  { name: "not-found", path: (w) => `/workouts/hevy/${w.othersWorkout.id}`, heading: () => "Not found", status: 404 },
];

run("workout pages in headless Chromium: journey, paging, 404, phone width, keyboard, axe-core", () => {
  let h: Harness;
  let base: string;
  let world: World;

  beforeAll(async () => {
    h = await startHarness();
    base = h.worker.url;
    // This user: a generated history, connected through the API.
    const mine = h.fake.createAccount({ name: "Journey Lifter" });
    h.fake.generateHistory(mine.apiKey, HISTORY, { seed: 11, weeks: 12 });
    // Another user with a Hevy account of their own and a workout only they may see.
    const otherToken = await createUser(h.worker, "someone-else@vitaltrends.example");
    const theirs = h.fake.createAccount({ name: "Someone Else" });
    const now = Date.now();
    const othersWorkout = h.fake.putWorkout(theirs.apiKey, {
      title: "Someone Else's Private Session", start_time: iso(now - 2 * DAY), end_time: iso(now - 2 * DAY + 3_600_000),
      exercises: [{ sets: [{ weight_kg: 60, reps: 8 }] }] as HevyWorkout["exercises"],
    });
    await Promise.all([connectAndBackfill(base, h.token, mine.apiKey), connectAndBackfill(base, otherToken, theirs.apiKey)]);

    // The PR the journey clicks: rows of the hub's table follow the order of the summary's PRs.
    const summary = await api<{ prs: Pr[] }>(base, "/api/v1/hevy/summary?weeks=12", { token: h.token });
    const rowOrder = [...new Set(summary.body.prs.map((p) => p.exercise_template_id))];
    const pr = rowOrder.map((t) => summary.body.prs.find((p) => p.exercise_template_id === t && p.kind === "heaviest_weight")).find(Boolean)!;
    const workouts = h.fake.listWorkouts(mine.apiKey);
    const prWorkout = workouts.find((w) => w.id === pr.workout_id)!;

    // Apple Health: a strength workout a minute after the PR's workout (merges into it), and a run that merges with nothing.
    const ah = await api(base, "/api/v1/sources/apple_health/workouts", {
      method: "PUT", token: h.token,
      json: {
        items: [
          { external_id: "AH-STRENGTH-1", activity_type: "traditional_strength_training", title: "Traditional Strength Training",
            start_time: iso(Date.parse(prWorkout.start_time) + 60_000), end_time: iso(Date.parse(prWorkout.end_time) + 60_000),
            calories_kcal: 412, avg_hr_bpm: 128, max_hr_bpm: 161 },
          { external_id: "AH-RUN-1", activity_type: "running", title: "Evening Run",
            start_time: iso(now - 3 * DAY), end_time: iso(now - 3 * DAY + 40 * 60_000), calories_kcal: 305, avg_hr_bpm: 151, max_hr_bpm: 178 },
        ],
      },
    });
    expect(ah.status).toBe(200);

    // WHOOP and Oura every morning for 120 days up to the wake-up day after the latest session (zone UTC):
    // 58/62 alternating before it (30-day average 60 and 80), 71 and 77 on it.
    const latest = workouts.reduce((a, b) => (Date.parse(b.start_time) > Date.parse(a.start_time) ? b : a));
    const end = Date.parse(latest.end_time);
    const wakeMs = new Date(end).getUTCHours() < 4 ? end : end + DAY;
    const wakeDay = isoDate(wakeMs);
    const readings = (onWake: number, low: number, high: number) =>
      Array.from({ length: 120 }, (_, i) => ({ date: isoDate(wakeMs - i * DAY), score: i === 0 ? onWake : i % 2 ? low : high }));
    for (const [source, items] of [["whoop", readings(71, 58, 62)], ["oura", readings(77, 78, 82)]] as const) {
      const res = await api(base, `/api/v1/recovery/${source}`, { method: "PUT", token: h.token, json: { items } });
      expect(res.status).toBe(200);
    }

    // One session for every page that needs one.
    const login = await h.page();
    await logIn(login, base, h.token);
    const storageState = await login.context().storageState();
    await login.context().close();
    world = { storageState, pr, prWorkout, wakeDay, othersWorkout, otherToken };
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A page of a logged-in context that keeps the pages' CSP (scripts only with their nonce). */
  const sessionPage = (viewport = DESKTOP) => h.page({ viewport, storageState: world.storageState });
  const rowIds = (page: Page) => page.locator("#workouts-feed tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-row-id")));

  it("journey: login → hub → a PR's workout → the exercise's progress → the feed filtered to Apple Health → back", async () => {
    const page = await h.page();
    const blocked: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    page.on("pageerror", (e) => blocked.push(e.message));

    await page.goto(`${base}/hevy`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", h.token);
    await page.click("main button[type=submit]");
    await page.waitForURL(`${base}/hevy`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Hevy hub");

    // The hub has the next morning after the latest session: WHOOP 71 vs 60, Oura 77 vs 80.
    const morning = page.locator(".card", { has: page.locator("h2", { hasText: "Latest session vs next morning" }) });
    const morningText = (await morning.textContent())!.replace(/\s+/g, " ");
    // The wake-up day written for people: "Nov 27, 2026".
    const wakeDay = new Date(`${world.wakeDay}T12:00:00Z`).toLocaleDateString("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
    expect(morningText).toContain(`WHOOP recovery on ${wakeDay}: 71`);
    expect(morningText).toMatch(/vs 30-day average 60 \(\+11\)/);
    expect(morningText).toContain(`Oura readiness on ${wakeDay}: 77`);
    expect(morningText).toMatch(/vs 30-day average 80 \([-−]3\)/);

    // The PR's cell shows the record and links to its workout.
    const cell = page.locator(`#pr-table tr[data-template="${world.pr.exercise_template_id}"] td[data-kind="heaviest_weight"]`);
    expect(await cell.textContent()).toContain(`${Math.round(world.pr.value * 10) / 10} kg`);
    await cell.locator("a").click();
    await page.waitForURL(`${base}/workouts/hevy/${world.prWorkout.id}`);
    expect(await page.locator("h1").textContent()).toBe(world.prWorkout.title);
    // SPEC §13: the linked Apple Health calories and heart rate.
    const summaryCard = (await page.locator("main .card").first().textContent())!.replace(/\s+/g, " ");
    expect(summaryCard).toContain("412 kcal");
    expect(summaryCard).toContain("128 bpm");

    // The exercise's "progress" link opens its page, whose records link back to this workout.
    await page.locator(`main section a[href="/hevy/exercises/${encodeURIComponent(world.pr.exercise_template_id)}"]`).first().click();
    await page.waitForURL(`${base}/hevy/exercises/${encodeURIComponent(world.pr.exercise_template_id)}`);
    expect(await page.locator("h1").textContent()).toBe(world.pr.exercise_title);
    const heaviest = page.locator('#exercise-prs li[data-kind="heaviest_weight"]');
    expect(await heaviest.textContent()).toContain(`${Math.round(world.pr.value * 10) / 10} kg`);
    expect(await heaviest.locator("a").getAttribute("href")).toBe(`/workouts/hevy/${world.prWorkout.id}`);
    expect(await page.locator(`#exercise-sessions tr[data-workout="${world.prWorkout.id}"]`).count()).toBe(1);

    // The nav leads to the unified feed: every source, newest first, 20 rows.
    await page.click('header.top a[href="/workouts"]');
    await page.waitForURL(`${base}/workouts`);
    expect(await page.locator('nav[aria-label="Filter by source"] a[aria-current="true"]').textContent()).toContain("All sources");
    const all = await rowIds(page);
    expect(all).toHaveLength(20);
    const starts = await page.locator("#workouts-feed tbody time").evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute("datetime")!)));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));

    // Filtered to Apple Health: the merged session (both sources, Apple Health's calories and heart rate) and the run.
    await page.locator('nav[aria-label="Filter by source"] a', { hasText: "Apple Health" }).click();
    await page.waitForURL(`${base}/workouts?source=apple_health`);
    expect(await page.locator('nav[aria-label="Filter by source"] a[aria-current="true"]').textContent()).toContain("Apple Health");
    const merged = page.locator(`#workouts-feed tr[data-row-id="hevy:${world.prWorkout.id}"]`);
    const runRow = page.locator('#workouts-feed tr[data-row-id="apple_health:AH-RUN-1"]');
    expect(await rowIds(page)).toHaveLength(2);
    expect(await merged.locator("[data-sources]").textContent()).toBe("Hevy + Apple Health");
    const mergedText = await merged.textContent();
    expect(mergedText).toContain("412 kcal");
    expect(mergedText).toContain("128 bpm");
    expect(await merged.locator("a").getAttribute("href")).toBe(`/workouts/hevy/${world.prWorkout.id}`);
    expect(await runRow.locator("[data-sources]").textContent()).toBe("Apple Health");
    expect(await runRow.textContent()).toContain("Evening Run");
    expect(await runRow.textContent()).toContain("305 kcal");

    // Back: the unfiltered feed as it was, then the exercise page.
    await page.goBack();
    await page.waitForURL(`${base}/workouts`);
    expect(await rowIds(page)).toEqual(all);
    await page.goBack();
    await page.waitForURL(`${base}/hevy/exercises/${encodeURIComponent(world.pr.exercise_template_id)}`);
    expect(await page.locator("h1").textContent()).toBe(world.pr.exercise_title);

    // Nothing on the way was blocked by the pages' CSP or threw.
    expect(blocked).toEqual([]);
    await page.context().close();
  });

  it("pages the feed: 'Older workouts →' shows the next 20 rows, 'Newest workouts' goes back to the first page", async () => {
    const page = await sessionPage();
    await page.goto(`${base}/workouts`);
    const first = await rowIds(page);
    expect(first).toHaveLength(20);
    expect(await page.locator("a", { hasText: "Newest workouts" }).count()).toBe(0);
    const lastStart = Date.parse((await page.locator("#workouts-feed tbody time").last().getAttribute("datetime"))!);

    await page.click("[data-next]");
    await page.waitForURL(/\/workouts\?cursor=/);
    const second = await rowIds(page);
    expect(second).toHaveLength(20);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    const secondStarts = await page.locator("#workouts-feed tbody time").evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute("datetime")!)));
    expect(Math.max(...secondStarts)).toBeLessThanOrEqual(lastStart);

    // The third page holds the rest: 48 Hevy workouts and the unmerged run make 49 rows.
    await page.click("[data-next]");
    await page.waitForURL(/\/workouts\?cursor=/);
    const third = await rowIds(page);
    expect(third).toHaveLength(HISTORY + 1 - 40);
    expect(third.filter((id) => first.includes(id) || second.includes(id))).toEqual([]);
    expect(await page.locator("[data-next]").count()).toBe(0);

    await page.click("text=Newest workouts");
    await page.waitForURL(`${base}/workouts`);
    expect(await rowIds(page)).toEqual(first);
    await page.context().close();
  });

  it("another user's workout, an unknown id and a malformed id are the 404 page", async () => {
    // The workout exists: its owner reads it.
    const owners = await api<{ title: string }>(base, `/api/v1/workouts/hevy/${world.othersWorkout.id}`, { token: world.otherToken });
    expect(owners.status).toBe(200);
    expect(owners.body.title).toBe(world.othersWorkout.title);

    const page = await sessionPage();
    for (const id of [world.othersWorkout.id, crypto.randomUUID(), "not a workout id"]) {
      const res = await page.goto(`${base}/workouts/hevy/${encodeURIComponent(id)}`);
      expect(res?.status(), id).toBe(404);
      const heading = page.locator("h1");
      expect(await heading.isVisible()).toBe(true);
      expect(await heading.textContent()).toBe("Not found");
      expect(await page.locator("main").textContent()).not.toContain(world.othersWorkout.title);
    }
    await page.context().close();
  });

  it("by keyboard only: the login form submits, Tab reaches a PR's workout link with a visible focus, Enter opens it", async () => {
    const page = await h.page();
    const seen: Focused[] = [];
    /** Tab until `done` holds for the focused element (at most `max` presses); every stop is recorded. */
    const tabTo = async (done: (f: Focused) => boolean, max = 150): Promise<Focused> => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press("Tab");
        const f = await focused(page);
        if (!f) continue;
        seen.push(f);
        if (done(f)) return f;
      }
      throw new Error(`not reached by ${max} Tabs; stops: ${seen.slice(-20).map((f) => `${f.tag} "${f.text}"`).join(", ")}`);
    };

    await page.goto(`${base}/login`);
    await tabTo((f) => f.id === "token", 10);
    await page.keyboard.type(h.token);
    await tabTo((f) => f.tag === "button" && f.text === "Log in", 5);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/hevy`);

    // The first PR link of the table, by Tab alone.
    const firstPr = await page.locator("#pr-table td[data-kind] a").first().getAttribute("href");
    const pr = await tabTo((f) => f.prLink);
    expect(pr.href).toBe(firstPr);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}${firstPr}`);
    await page.locator("h1").waitFor();

    // On the workout page: an exercise's progress link, then the nav back to the feed from the exercise page.
    const progress = await tabTo((f) => /^\/hevy\/exercises\//.test(f.href ?? ""));
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}${progress.href}`);
    await tabTo((f) => f.href === "/workouts" && f.text === "Workouts", 10);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/workouts`);
    expect(await page.locator("#workouts-feed").isVisible()).toBe(true);

    // Every stop on the way showed where the focus was.
    const invisible = seen.filter((f) => !focusIsVisible(f)).map((f) => `${f.tag} "${f.text}" (outline ${f.outlineStyle} ${f.outlineWidth})`);
    expect(invisible, "focused elements without a visible focus indicator").toEqual([]);
    expect(seen.every((f) => f.focusVisible)).toBe(true);
    await page.context().close();
  });

  it("API reference (SPEC §14): /docs renders every operation of the OpenAPI document with Swagger UI, loads nothing from another origin, and calls the API with a token", async () => {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>(base, "/api/v1/openapi.json");
    const operations = Object.values(doc.body.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      const where = `/docs at ${width} width`;
      // The page's own CSP in force (no bypassCSP): every request is recorded, every console error and failed load is a problem.
      const page = await h.page({ viewport });
      const requests: string[] = [];
      const problems: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
      page.on("console", (m) => { if (m.type() === "error" || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`); });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));

      expect((await page.goto(`${base}/docs`))?.status(), where).toBe(200);
      const workouts = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/api/v1/workouts/hevy"])');
      await workouts.waitFor();
      expect(await page.locator("h1").allTextContents(), where).toEqual([expect.stringMatching(/^VitalTrends Hevy API/)]);
      expect(await page.locator(".opblock").count(), where).toBe(operations);
      await page.screenshot({ path: screenshotPath(`docs-${width}`), fullPage: false });

      // Authorize with the user's API token, then "Try it out" on GET /api/v1/workouts/hevy: a same-origin call under the CSP.
      await page.locator(".auth-wrapper .btn.authorize").click();
      const apiToken = page.locator(".auth-container", { hasText: "apiToken" });
      await apiToken.locator("input").fill(h.token);
      await apiToken.locator("button[type=submit]").click();
      await page.locator(".btn-done").first().click();
      await workouts.locator(".opblock-summary-control").click();
      await workouts.locator(".try-out__btn").click();
      await workouts.locator(".btn.execute").click();
      const live = workouts.locator(".live-responses-table .response");
      await live.first().waitFor();
      expect((await live.locator(".response-col_status").first().textContent())?.trim(), where).toBe("200");
      const body = JSON.parse((await live.locator(".response-col_description pre").first().textContent())!) as { data: unknown[] };
      expect(body.data, where).toHaveLength(20);
      if (width === "phone") await expectNoSidewaysOverflow(page, where);

      const origins = new Set(requests.map((u) => new URL(u).origin));
      expect([...origins], `${where}: origins requested`).toEqual([base]);
      for (const path of ["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/swagger-init.js", "/api/v1/openapi.json", "/api/v1/workouts/hevy"]) {
        expect(requests, where).toContain(`${base}${path}`);
      }
      expect(problems, where).toEqual([]);
      await page.context().close();

      // axe-core on the reference as a reader first meets it (operations collapsed); its script is inline, so this
      // context bypasses the CSP. Swagger UI's expanded operations and Authorize dialog are third-party markup with
      // violations of their own (an unlabelled textarea, a nameless close button), not checked here.
      const axePage = await h.page({ viewport, bypassCSP: true });
      await axePage.goto(`${base}/docs`);
      await axePage.locator(".opblock").nth(operations - 1).waitFor();
      await expectAxeClean(axePage, where);
      await axePage.context().close();
    }
  });

  for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    describe(`at ${width} width (${viewport.width}×${viewport.height})`, () => {
      let axePage: Page;
      beforeAll(async () => {
        // axe-core's script is inline: this context alone lets it past the pages' CSP.
        axePage = await h.page({ viewport, storageState: world.storageState, bypassCSP: true });
      });
      afterAll(async () => {
        await axePage?.context().close();
      });

      it.for(PAGES)(`$name: renders, is photographed${width === "phone" ? ", does not scroll sideways, its nav fits" : ""}, and axe-core finds nothing serious or critical`, async (p) => {
        const page = axePage;
        const path = p.path(world);
        const where = `${p.name} (${path}) at ${width} width`;
        const res = await page.goto(`${base}${path}`);
        expect(res?.status(), where).toBe(p.status ?? 200);
        expect(await page.locator("h1").textContent()).toBe(p.heading(world));
        await page.screenshot({ path: screenshotPath(`${p.name}-${width}`), fullPage: true });
        if (width === "phone") {
          await expectNoSidewaysOverflow(page, where);
          const nav = await navBoxes(page);
          const misplaced = nav.filter((b) => !b.visible || b.left < 0 || b.right > viewport.width + 0.5);
          expect.soft(misplaced.map((b) => `${b.text}: ${Math.round(b.left)}–${Math.round(b.right)}px`), `${where}: header links outside the viewport`).toEqual([]);
        }
        await expectAxeClean(page, where);
      });

      if (width === "phone") {
        it("the header nav works by tap: Workouts, Connections → Hevy, Hevy hub", async () => {
          const page = await sessionPage(PHONE);
          await page.goto(`${base}/hevy`);
          for (const [text, path] of [["Workouts", "/workouts"], ["Connections → Hevy", "/connections/hevy"], ["Hevy hub", "/hevy"]] as const) {
            await page.locator("header.top a", { hasText: text }).click();
            await page.waitForURL(`${base}${path}`);
            expect(await page.locator(`header.top a[aria-current="page"]`).textContent()).toBe(text);
          }
          await page.context().close();
        });
      }
    });
  }
});
