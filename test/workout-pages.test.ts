import { describe, expect, it } from "vitest";
import type { Workout } from "../src/hevy/types";
import { logIn } from "./hardening-fixture";
import { createUser, type TestContext, type TestUser, useTestContext } from "./helpers";
import { store, workout } from "./metrics-fixtures";
import { connected } from "./sync-helpers";
import { hevy, item, MIN, putSource, storeHevy } from "./unified-helpers";

// SPEC §13: /workouts (the unified feed as a page) and /workouts/hevy/{id} (one workout),
// read as a person reads them: the HTML.

const DAY = 86_400_000;

async function signedIn(t: TestContext, user: TestUser) {
  const { cookie } = await logIn(t, user.token);
  return async (path: string) => {
    const res = await t.request(path, { headers: { cookie } });
    return { res, html: await res.text() };
  };
}

/** Text with tags removed and entities of the page decoded, whitespace collapsed. */
const text = (html: string) =>
  html.replace(/<[^>]+>/g, " ").replace(/&amp;/g, "&").replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/\s+/g, " ");

const rowIds = (html: string) => [...html.matchAll(/data-row-id="([^"]+)"/g)].map((m) => m[1]!);
const olderHref = (html: string) => /<a href="([^"]+)" rel="next"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? null;
const rowOf = (html: string, id: string) => new RegExp(`<tr data-row-id="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";

function expectPageHeaders(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("cache-control")).toBe("no-store");
}

function liftWithEverySet(id: string): Workout {
  const w = workout(id, "2026-11-20T17:02:00Z", 75, [
    { template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["warmup", 20, 10], ["normal", 100, 100], ["failure", 117.25, 20]] },
    { template: null, title: "Rowing Machine", sets: [["normal", null, null]] },
  ]);
  w.title = "Push day";
  w.description = "Felt strong";
  w.exercises[0]!.sets[1]!.rpe = 8.5;
  w.exercises[0]!.supersetId = 0;
  w.exercises[1]!.sets[0]!.distanceMeters = 2000;
  w.exercises[1]!.sets[0]!.durationSeconds = 480;
  return w;
}

describe("workout pages: /workouts/hevy/{id}", () => {
  const t = useTestContext();

  it("shows the workout's title, local times in the user's zone, duration, metrics and every set", async () => {
    const user = await createUser(t, "Europe/Berlin");
    await store(user.id, [liftWithEverySet("push-1")]);
    const get = await signedIn(t, user);
    const { res, html } = await get("/workouts/hevy/push-1");
    expect(res.status, html).toBe(200);
    expectPageHeaders(res);
    const page = text(html);

    expect(html).toContain('<html lang="en">');
    expect(html.match(/<h1[ >]/g)).toHaveLength(1);
    expect(html).toMatch(/<h1>Push day<\/h1>/);
    expect(page).toContain("Felt strong");
    // 17:02 UTC is 18:02 in Berlin (CET); 75 minutes later, 19:17.
    expect(page).toContain("Fri, Nov 20, 2026, 6:02 PM");
    expect(page).toContain("Fri, Nov 20, 2026, 7:17 PM");
    expect(page).not.toContain("5:02 PM");
    expect(html).toContain('datetime="2026-11-20T17:02:00Z"');
    expect(page).toContain("1 h 15 min");

    // The service's metrics (warm-ups not counted), written for people.
    const api = (await (await t.request("/api/v1/workouts/hevy/push-1", { token: user.token })).json()) as {
      metrics: { volume_kg: number; set_count: number; exercise_count: number };
    };
    expect(api.metrics.volume_kg).toBe(12345);
    expect(page).toContain("12,345 kg volume");
    expect(page).toContain(`${api.metrics.set_count} sets`);
    expect(page).toContain("2 exercises");
    expect(page).not.toContain("12345");

    // Every exercise in order, every set in its table.
    expect(page).toContain("1. Bench Press (Barbell) Superset 1");
    expect(page.indexOf("2. Rowing Machine")).toBeGreaterThan(page.indexOf("1. Bench Press (Barbell)"));
    const tables = [...html.matchAll(/<table class="sets">([\s\S]*?)<\/table>/g)].map((m) => m[1]!);
    expect(tables).toHaveLength(2);
    const rows = (table: string) => [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => text(m[1]!).trim());
    expect(tables[0]).toContain('<th scope="col" class="num">Weight</th>');
    expect(tables[0]).not.toContain("Distance");
    expect(rows(tables[0]!)).toEqual([
      "Set Type Weight Reps RPE",
      "1 Warm-up 20 kg 10 –",
      "2 Normal 100 kg 100 8.5",
      "3 Failure 117.25 kg 20 –",
    ]);
    expect(rows(tables[1]!)).toEqual(["Set Type Weight Reps RPE Distance Duration", "1 Normal – – – 2 km 8 min"]);
    expect(html).toContain('<a href="/workouts">');
  });

  it("answers another user's workout id, an unknown id and a malformed id with the 404 page", async () => {
    const owner = await createUser(t);
    await store(owner.id, [liftWithEverySet("owned-1")]);
    const other = await createUser(t, "America/New_York");
    await store(other.id, [liftWithEverySet("mine-1")]);
    const get = await signedIn(t, other);
    expect((await get("/workouts/hevy/mine-1")).res.status).toBe(200);
    for (const path of ["/workouts/hevy/owned-1", "/workouts/hevy/no-such-workout", "/workouts/hevy/bad%20id!", `/workouts/hevy/${"x".repeat(65)}`]) {
      const { res, html } = await get(path);
      expect(res.status, path).toBe(404);
      expectPageHeaders(res);
      expect(html).toContain("<h1>Not found</h1>");
      expect(html).not.toContain("Push day");
    }
    // The owner still sees it.
    expect((await (await signedIn(t, owner))("/workouts/hevy/owned-1")).res.status).toBe(200);
  });

  it("sends a visitor without a session to /login", async () => {
    for (const path of ["/workouts", "/workouts/hevy/anything"]) {
      const res = await t.request(path);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("/login");
    }
  });
});

describe("workout pages: /workouts, the unified feed", () => {
  const t = useTestContext();
  const T0 = Date.UTC(2026, 9, 1, 7, 30);

  it("pages 20 at a time, newest first, with an Older link that shows the rest", async () => {
    const user = await createUser(t, "Asia/Tokyo");
    const ids = Array.from({ length: 23 }, (_, i) => `lift-${String(i).padStart(2, "0")}`);
    await storeHevy(user.id, ids.map((id, i) => hevy(id, T0 + i * DAY, 60, { title: `Session ${i}`, sets: [[1000, 10 + i]] })));
    const get = await signedIn(t, user);

    const first = await get("/workouts");
    expect(first.res.status, first.html).toBe(200);
    expectPageHeaders(first.res);
    expect(first.html.match(/<h1[ >]/g)).toHaveLength(1);
    const newest = [...ids].reverse();
    expect(rowIds(first.html)).toEqual(newest.slice(0, 20).map((id) => `hevy:${id}`));
    // Each Hevy row links to its workout page; volume with separators; times in Tokyo (UTC+9).
    expect(first.html).toContain('<a href="/workouts/hevy/lift-22">Session 22</a>');
    expect(text(rowOf(first.html, "hevy:lift-22"))).toContain("32,000 kg");
    expect(text(rowOf(first.html, "hevy:lift-22"))).toContain("4:30 PM GMT+9");
    expect(text(rowOf(first.html, "hevy:lift-22"))).toContain("1 h");

    const next = olderHref(first.html);
    expect(next).toMatch(/^\/workouts\?cursor=/);
    const second = await get(next!);
    expect(second.res.status, second.html).toBe(200);
    expect(rowIds(second.html)).toEqual(newest.slice(20).map((id) => `hevy:${id}`));
    expect(olderHref(second.html)).toBeNull();
    expect(second.html).toContain('<a href="/workouts">Newest workouts</a>');

    // The workout page linked from the feed opens.
    expect((await get("/workouts/hevy/lift-22")).res.status).toBe(200);
  });

  it("filters by source, keeping the filter across pages, and shows a merged session with both sources", async () => {
    const user = await createUser(t, "Europe/London");
    await storeHevy(user.id, [hevy("merged-h", T0, 60, { title: "Leg day", sets: [[100, 5]] }), hevy("alone-h", T0 + DAY, 45, { title: "Arm day" })]);
    await putSource(t, user, "apple_health", [
      item("merged-a", T0 + 30_000, 60, { calories_kcal: 1234, avg_hr_bpm: 131 }),
      item("run-a", T0 + 2 * DAY, 30, { activity_type: "running", title: null }),
    ]);
    await putSource(t, user, "whoop", [item("whoop-1", T0 + 3 * DAY, 40, { activity_type: "cycling", title: "Evening ride" })]);
    const get = await signedIn(t, user);

    const all = await get("/workouts");
    expect(rowIds(all.html)).toEqual(["whoop:whoop-1", "apple_health:run-a", "hevy:alone-h", "hevy:merged-h"]);
    const merged = text(rowOf(all.html, "hevy:merged-h"));
    expect(merged).toContain("Hevy + Apple Health");
    expect(merged).toContain("1,234 kcal");
    expect(merged).toContain("131 bpm");
    expect(merged).toContain("500 kg");
    expect(rowOf(all.html, "hevy:merged-h")).toContain('<a href="/workouts/hevy/merged-h">Leg day</a>');
    expect(text(rowOf(all.html, "apple_health:run-a"))).toContain("Running");
    expect(rowOf(all.html, "apple_health:run-a")).not.toContain("<a ");
    // The filter is a set of links; "All sources" is the current one.
    expect(all.html).toContain('<a href="/workouts?source=apple_health"');
    expect(all.html).toMatch(/<a href="\/workouts" aria-current="true"[^>]*>All sources<\/a>/);

    const whoop = await get("/workouts?source=whoop");
    expect(whoop.res.status).toBe(200);
    expect(rowIds(whoop.html)).toEqual(["whoop:whoop-1"]);
    expect(text(whoop.html)).toContain("Evening ride");
    expect(whoop.html).toMatch(/<a href="\/workouts\?source=whoop" aria-current="true"[^>]*>WHOOP<\/a>/);

    const hevyOnly = await get("/workouts?source=hevy");
    expect(rowIds(hevyOnly.html)).toEqual(["hevy:alone-h", "hevy:merged-h"]);

    // Apple Health: its own workout and the Hevy session it merged into, with both sources.
    const apple = await get("/workouts?source=apple_health");
    expect(rowIds(apple.html)).toEqual(["apple_health:run-a", "hevy:merged-h"]);
    expect(text(rowOf(apple.html, "hevy:merged-h"))).toContain("Hevy + Apple Health");

    const oura = await get("/workouts?source=oura");
    expect(rowIds(oura.html)).toEqual([]);
    expect(text(oura.html)).toContain("No Oura workouts yet.");
  });

  it("keeps the source filter on the Older link", async () => {
    const user = await createUser(t);
    await putSource(t, user, "strava", Array.from({ length: 21 }, (_, i) => item(`ride-${i}`, T0 + i * DAY, 30, { activity_type: "cycling" })));
    await storeHevy(user.id, [hevy("interleaved", T0 + 5 * DAY + MIN, 30)]);
    const get = await signedIn(t, user);
    const first = await get("/workouts?source=strava");
    expect(rowIds(first.html)).toHaveLength(20);
    const next = olderHref(first.html)!;
    expect(next).toMatch(/^\/workouts\?source=strava&cursor=/);
    const second = await get(next);
    expect(rowIds(second.html)).toEqual(["strava:ride-0"]);
  });

  it("answers a bad query with a 400 page, not a 500", async () => {
    const user = await createUser(t);
    const get = await signedIn(t, user);
    for (const query of ["source=garmin", "cursor=not-a-cursor", "from=yesterday", "from=2026-11-02&to=2026-11-01", "colour=red"]) {
      const { res, html } = await get(`/workouts?${query}`);
      expect(res.status, query).toBe(400);
      expectPageHeaders(res);
      expect(html).toContain('<html lang="en">');
      expect(html).toMatch(/<h1>[^<]+<\/h1>/);
    }
  });
});

describe("the hub and the connection page, written for people", () => {
  const t = useTestContext();

  it("the hub separates thousands, shows local dates, and links each recent session and PR to its workout", async () => {
    const user = await createUser(t, "America/New_York");
    // 22:00 on the 20th in New York is 03:00 on the 21st in UTC: the page shows the local date.
    const w = workout("big-1", "2026-11-21T03:00:00Z", 60, [{ template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["normal", 250, 50], ["normal", 300, 10]] }]);
    await store(user.id, [w]);
    const get = await signedIn(t, user);
    const { res, html } = await get("/hevy?weeks=52");
    expect(res.status, html).toBe(200);
    const page = text(html);
    expect(page).toContain("15,500"); // 250 × 50 + 300 × 10, the window's volume
    expect(page).not.toContain("15500");
    expect(page).toContain("Nov 20, 2026");
    expect(page).not.toContain("Nov 21, 2026");
    expect(html).toContain('href="/workouts/hevy/big-1"');
    // Both the recent session and the PRs it holds link to it.
    expect(html.match(/href="\/workouts\/hevy\/big-1"/g)!.length).toBeGreaterThan(1);
  });

  it("the connection page says when the last sync was in words, with the exact local time on hover", async () => {
    const { user } = await connected(t, 2);
    const get = await signedIn(t, user);
    const { html } = await get("/connections/hevy");
    const sync = /<time data-last-sync[^>]*>([^<]*)<\/time>/.exec(html);
    expect(sync, html).not.toBeNull();
    expect(sync![1]!.trim()).toBe("just now");
    expect(sync![0]).toMatch(/datetime="\d{4}-\d\d-\d\dT/);
    expect(sync![0]).toMatch(/title="[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d (AM|PM) UTC"/); // the user's zone (UTC here), named
  });
});

describe("exercise progress: /hevy/exercises/{template_id}", () => {
  const t = useTestContext();

  it("shows the exercise's records (the API's own numbers), every session newest first with its best e1RM, linked from the hub", async () => {
    const user = await createUser(t, "Europe/Berlin");
    const sessions = [
      workout("ex-1", new Date(Date.now() - 20 * DAY).toISOString(), 60, [{ template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["warmup", 40, 10], ["normal", 100, 5]] }]),
      workout("ex-2", new Date(Date.now() - 10 * DAY).toISOString(), 60, [{ template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["normal", 1000, 1], ["normal", 105, 8]] }]),
      workout("ex-3", new Date(Date.now() - 5 * DAY).toISOString(), 60, [{ template: "D04AC939", title: "Squat (Barbell)", sets: [["normal", 140, 5]] }]),
    ];
    await store(user.id, sessions);
    const get = await signedIn(t, user);
    const { res, html } = await get("/hevy/exercises/79D0BB3A");
    expect(res.status, html).toBe(200);
    expectPageHeaders(res);
    expect(html.match(/<h1[^>]*>/g)).toHaveLength(1);
    const page = text(html);
    expect(page).toContain("Bench Press (Barbell)");
    expect(page).toContain("2 sessions");
    // The records are the API's: the same values, written with units.
    const prs = (await (await t.request("/api/v1/hevy/prs", { token: user.token })).json()) as { data: Array<{ exercise_template_id: string; kind: string; value: number }> };
    const heaviest = prs.data.find((p) => p.exercise_template_id === "79D0BB3A" && p.kind === "heaviest_weight")!;
    expect(heaviest.value).toBe(1000);
    expect(page).toContain("Heaviest: 1,000 kg");
    // Sessions newest first; the squat session is not one of them; each links to its workout.
    const rows = [...html.matchAll(/<tr data-workout="([^"]+)">/g)].map((m) => m[1]);
    expect(rows).toEqual(["ex-2", "ex-1"]);
    expect(html).toContain('href="/workouts/hevy/ex-2"');
    // ex-2's best e1RM: 105 × (1 + 8/30) = 133 beats nothing but 1,000 × 1 = 1,000 kg; ex-1's: 100 × (1 + 5/30) = 116.67 kg (warm-up left out).
    const cells = (id: string) => [...(new RegExp(`<tr data-workout="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "").matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => text(m[1]!).trim());
    // Date, workout, working sets, heaviest, best e1RM, volume.
    expect(cells("ex-2").slice(2)).toEqual(["2", "1,000 kg", "1,000 kg", "1,840 kg"]);
    expect(cells("ex-1").slice(2)).toEqual(["1", "100 kg", "116.67 kg", "500 kg"]); // the warm-up left out
    expect(html).toContain('id="e1rm-chart"');
    // The hub links each exercise of its PR table here.
    expect((await get("/hevy?weeks=4")).html).toContain('href="/hevy/exercises/79D0BB3A"');
  });

  it("answers the 404 page for an exercise this user never logged (even one another user did), and for a malformed id", async () => {
    const [user, other] = [await createUser(t), await createUser(t)];
    await store(other.id, [workout("o-1", new Date(Date.now() - DAY).toISOString(), 30, [{ template: "ABCDEF12", title: "Curl", sets: [["normal", 20, 10]] }])]);
    const get = await signedIn(t, user);
    for (const path of ["/hevy/exercises/ABCDEF12", "/hevy/exercises/NOPE0000", "/hevy/exercises/bad%20id!"]) {
      const { res, html } = await get(path);
      expect(res.status, path).toBe(404);
      expect(text(html)).toContain("Not found");
    }
    expect((await (await signedIn(t, other))("/hevy/exercises/ABCDEF12")).res.status).toBe(200);
  });
});

describe("a Hevy workout without a title (stored empty)", () => {
  const t = useTestContext();

  it("is named after its kind in the feed and on its page: never an empty link or heading", async () => {
    const user = await createUser(t);
    const w = workout("untitled-1", new Date(Date.now() - DAY).toISOString(), 30, [{ template: null, title: "Plank", sets: [["normal", null, null]] }]);
    w.title = "";
    await store(user.id, [w]);
    const get = await signedIn(t, user);
    const feed = (await get("/workouts")).html;
    const link = /<a href="\/workouts\/hevy\/untitled-1">([^<]*)<\/a>/.exec(feed);
    expect(link, feed).not.toBeNull();
    expect(link![1]!.trim()).not.toBe("");
    const page = (await get("/workouts/hevy/untitled-1")).html;
    expect(/<h1>([^<]*)<\/h1>/.exec(page)![1]!.trim()).toBe("Workout");
  });
});

describe("links and states a person follows", () => {
  const t = useTestContext();

  it("each exercise of a workout links to its progress page; the hub says when the history is still being fetched", async () => {
    const user = await createUser(t);
    await store(user.id, [liftWithEverySet("linked-1")]);
    const get = await signedIn(t, user);
    const page = (await get("/workouts/hevy/linked-1")).html;
    expect(page).toContain('href="/hevy/exercises/79D0BB3A"');
    expect((await get("/hevy/exercises/79D0BB3A")).res.status).toBe(200);
    // A connection whose backfill is still running: the hub says so, and points at the progress.
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 30, { seed: 3, end: new Date(Date.now() - DAY) });
    expect((await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    const hub = text((await get("/hevy")).html);
    expect(hub).toContain("Your Hevy history is still being fetched");
  });
});
