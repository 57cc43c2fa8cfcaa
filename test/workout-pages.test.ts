import { describe, expect, it } from "vitest";
import type { Workout } from "../src/hevy/types";
import { localDate, mondayOf, mondayWeeks } from "../src/lib/zoned-time";
import { rebuildRollups } from "../src/services/metrics/rollup-rebuild";
import { pageText, signedIn } from "./hardening-fixture";
import { createUser, dbOf, useTestContext } from "./helpers";
import { store, workout } from "./metrics-fixtures";
import { connected } from "./sync-helpers";
import { hevy, iso, item, MIN, putSource, storeHevy } from "./unified-helpers";

// SPEC §13: /workouts (the unified feed as a page) and /workouts/hevy/{id} (one workout),
// read as a person reads them: the HTML.

const DAY = 86_400_000;

/** A Monday as the exercise page writes it: "Nov 16, 2026". */
const formatWeek = (monday: string) => new Date(`${monday}T00:00:00Z`).toLocaleDateString("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });

const text = pageText;

const rowIds = (html: string) => [...html.matchAll(/data-row-id="([^"]+)"/g)].map((m) => m[1]!);
const olderHref = (html: string) => /<a href="([^"]+)" rel="next"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? null;
const rowOf = (html: string, id: string) => new RegExp(`<tr data-row-id="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";

/** The outer HTML of the <section> whose opening tag matches `open`, nested sections included. */
function sectionOf(html: string, open: RegExp): string {
  const start = html.search(open);
  if (start < 0) return "";
  const tags = /<section\b|<\/section>/g;
  tags.lastIndex = start;
  let depth = 0;
  for (let m; (m = tags.exec(html)); ) {
    depth += m[0] === "</section>" ? -1 : 1;
    if (depth === 0) return html.slice(start, tags.lastIndex);
  }
  return "";
}
const exerciseSection = (html: string, index: number) => sectionOf(html, new RegExp(`<section[^>]*aria-labelledby="exercise-${index}"`));
/** The rows of a sets table, as text: "Set Type Weight …", "1 Warm-up 20 kg …". */
const setRows = (section: string) => [...section.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => text(m[1]!).trim());

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

    // Every exercise in order, every set in its table; the sets holding the bench's PRs are marked in words.
    expect(page).toContain("Superset 1 1. Bench Press (Barbell)");
    expect(page.indexOf("2. Rowing Machine")).toBeGreaterThan(page.indexOf("1. Bench Press (Barbell)"));
    const tables = [...html.matchAll(/<table class="sets">([\s\S]*?)<\/table>/g)].map((m) => m[1]!);
    expect(tables).toHaveLength(2);
    const rows = (table: string) => [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => text(m[1]!).trim());
    expect(tables[0]).toContain('<th scope="col" class="num">Weight</th>');
    expect(tables[0]).not.toContain("Distance");
    expect(rows(tables[0]!)).toEqual([
      "Set Type Weight Reps RPE",
      "1 Warm-up 20 kg 10 –",
      "2 Normal PR: Most reps, Best set volume 100 kg 100 8.5",
      "3 Failure PR: Heaviest 117.25 kg 20 –",
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

  it("groups a superset's exercises under one heading, shows each exercise's volume (the API's own field), and marks the sets holding a PR now, by name", async () => {
    const user = await createUser(t);
    const first = workout("ss-1", "2026-11-10T17:00:00Z", 60, [
      { template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["warmup", 60, 10], ["normal", 1000.5, 3], ["normal", 1000, 3]] },
      { template: "55E6546F", title: "Bent Over Row (Barbell)", sets: [["normal", 80, 10]] },
      { template: "D04AC939", title: "Squat (Barbell)", sets: [["normal", 140, 5]] },
    ]);
    first.exercises[0]!.supersetId = 0;
    first.exercises[1]!.supersetId = 0;
    await store(user.id, [first]);
    const get = await signedIn(t, user);
    const { res, html } = await get("/workouts/hevy/ss-1");
    expect(res.status, html).toBe(200);

    // The superset is one section headed "Superset 1" holding its two exercises, and not the squat.
    const superset = sectionOf(html, /<section[^>]*data-superset="0"/);
    expect(superset, html).not.toBe("");
    expect(text(superset).trim()).toMatch(/^Superset 1 1\. Bench Press \(Barbell\)/);
    expect(text(superset)).toContain("2. Bent Over Row (Barbell)");
    expect(text(superset)).not.toContain("Squat");
    expect(superset.match(/<h3[ >]/g)).toHaveLength(2);
    expect(text(exerciseSection(html, 2))).toContain("3. Squat (Barbell)");
    // Every set column is still there, inside the group too.
    expect(setRows(exerciseSection(html, 0))[0]).toBe("Set Type Weight Reps RPE");

    // Each exercise's volume is the API's field (warm-up left out), written with separators.
    const api = (await (await t.request("/api/v1/workouts/hevy/ss-1", { token: user.token })).json()) as {
      exercises: Array<{ volume_kg: number }>; metrics: { volume_kg: number };
    };
    expect(api.exercises.map((e) => e.volume_kg)).toEqual([6001.5, 800, 700]);
    expect(api.metrics.volume_kg).toBe(7501.5); // one rule: the exercises add up to the workout
    expect(text(exerciseSection(html, 0))).toContain("Volume 6,001.5 kg");
    expect(text(exerciseSection(html, 1))).toContain("Volume 800 kg");
    const listed = (await (await t.request("/api/v1/workouts/hevy", { token: user.token })).json()) as { data: Array<{ exercises: Array<{ volume_kg: number }> }> };
    expect(listed.data[0]!.exercises.map((e) => e.volume_kg)).toEqual([6001.5, 800, 700]);

    // Every record is the bench's second set (the earliest of the 3-rep sets); the mark says which, in words.
    expect(setRows(exerciseSection(html, 0)).slice(1)).toEqual([
      "1 Warm-up 60 kg 10 –",
      "2 Normal PR: Heaviest, Best e1RM, Most reps, Best set volume 1,000.5 kg 3 –",
      "3 Normal 1,000 kg 3 –",
    ]);
    expect(exerciseSection(html, 0)).toMatch(/<span class="badge" data-pr="true">PR: Heaviest, Best e1RM, Most reps, Best set volume<\/span>/);

    // A later 1,200 kg single takes the heaviest and e1RM records: only the marks of records held now stay.
    await store(user.id, [workout("ss-2", "2026-11-12T17:00:00Z", 30, [{ template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["normal", 1200, 1]] }])]);
    const after = (await get("/workouts/hevy/ss-1")).html;
    expect(setRows(exerciseSection(after, 0)).slice(1)).toEqual([
      "1 Warm-up 60 kg 10 –",
      "2 Normal PR: Most reps, Best set volume 1,000.5 kg 3 –",
      "3 Normal 1,000 kg 3 –",
    ]);
    expect(setRows(exerciseSection((await get("/workouts/hevy/ss-2")).html, 0)).slice(1)).toEqual(["1 Normal PR: Heaviest, Best e1RM 1,200 kg 1 –"]);
  });

  it("shows the linked Apple Health workout's calories and heart rate, and nothing for a workout without one", async () => {
    const user = await createUser(t);
    const T = Date.UTC(2026, 9, 1, 7, 30);
    await storeHevy(user.id, [hevy("linked-h", T, 60, { sets: [[100, 5]] }), hevy("alone-h", T + DAY, 45, { sets: [[100, 5]] })]);
    await putSource(t, user, "apple_health", [
      item("linked-a", T + 30_000, 60, { calories_kcal: 1412, avg_hr_bpm: 131, max_hr_bpm: 164 }),
      // Overlapping alone-h, but a run: never paired with a lift.
      item("run-a", T + DAY + 5 * MIN, 40, { activity_type: "running", calories_kcal: 300, avg_hr_bpm: 150, max_hr_bpm: 180 }),
    ]);
    // Another user's workout with the same Hevy id, never linked: their page shows nothing of this user's.
    const other = await createUser(t);
    await storeHevy(other.id, [hevy("linked-h", T, 60, { sets: [[100, 5]] })]);
    const get = await signedIn(t, user);

    const linked = await get("/workouts/hevy/linked-h");
    expect(linked.res.status, linked.html).toBe(200);
    expect(text(linked.html)).toContain("Apple Health: 1,412 kcal · avg 131 bpm · max 164 bpm");
    const alone = await get("/workouts/hevy/alone-h");
    expect(alone.res.status).toBe(200);
    expect(text(alone.html)).not.toContain("Apple Health");
    expect(alone.html).not.toContain("data-apple-health");
    const theirs = (await (await signedIn(t, other))("/workouts/hevy/linked-h")).html;
    expect(text(theirs)).not.toContain("Apple Health");
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

  it("filters by a date range of local days in the user's zone, keeping source and range on the Older link and in the form", async () => {
    const user = await createUser(t, "America/New_York");
    // October 1–4 in New York (UTC-4): from 2026-10-01T04:00Z up to, not including, 2026-10-05T04:00Z.
    const inside = Array.from({ length: 22 }, (_, i) => hevy(`in-${String(i).padStart(2, "0")}`, Date.UTC(2026, 9, 1, 4) + i * 4 * 60 * MIN, 30));
    await storeHevy(user.id, [
      hevy("before", Date.parse("2026-10-01T03:30:00Z"), 30), // Sep 30, 23:30 in New York
      ...inside,
      hevy("last-day", Date.parse("2026-10-05T03:30:00Z"), 20), // Oct 4, 23:30 in New York: the To day is included
      hevy("after", Date.parse("2026-10-05T04:00:00Z"), 30), // Oct 5, 00:00 in New York
    ]);
    await putSource(t, user, "whoop", [item("whoop-in", Date.UTC(2026, 9, 2, 12), 40, { activity_type: "cycling" })]);
    const get = await signedIn(t, user);

    const first = await get("/workouts?source=hevy&from=2026-10-01&to=2026-10-04");
    expect(first.res.status, first.html).toBe(200);
    const inRange = ["hevy:last-day", ...[...inside].reverse().map((w) => `hevy:${w.id}`)];
    expect(rowIds(first.html)).toEqual(inRange.slice(0, 20));
    // The form: labelled date fields holding the range, the source kept hidden, sent with GET.
    const form = /<form method="get" action="\/workouts"[^>]*>([\s\S]*?)<\/form>/.exec(first.html)?.[1] ?? "";
    expect(form, first.html).toContain('<input type="hidden" name="source" value="hevy"/>');
    expect(form).toMatch(/<label for="feed-from">From<\/label><input type="date" id="feed-from" name="from" value="2026-10-01"\/>/);
    expect(form).toMatch(/<label for="feed-to">To<\/label><input type="date" id="feed-to" name="to" value="2026-10-04"\/>/);
    expect(form).toContain('<button type="submit">Apply</button>');
    // Another source keeps the range.
    expect(first.html).toContain('href="/workouts?source=whoop&amp;from=2026-10-01&amp;to=2026-10-04"');

    const next = olderHref(first.html);
    expect(next).toMatch(/^\/workouts\?source=hevy&from=2026-10-01&to=2026-10-04&cursor=/);
    const second = await get(next!);
    expect(second.res.status, second.html).toBe(200);
    expect(rowIds(second.html)).toEqual(inRange.slice(20));
    expect(olderHref(second.html)).toBeNull();
    expect(second.html).toContain('<input type="hidden" name="source" value="hevy"/>');

    // All sources in the range: the WHOOP ride too, still none of the three outside.
    const all = await get("/workouts?from=2026-10-01&to=2026-10-04");
    expect(rowIds(all.html)).toContain("whoop:whoop-in");
    expect(all.html).not.toContain('name="source"');
    const allIds = [...rowIds(all.html), ...rowIds((await get(olderHref(all.html)!)).html)];
    expect(allIds.filter((id) => ["hevy:before", "hevy:after"].includes(id))).toEqual([]);
    expect(allIds).toHaveLength(24);

    // A single day; and a range holding nothing says so.
    expect(rowIds((await get("/workouts?from=2026-09-30&to=2026-09-30")).html)).toEqual(["hevy:before"]);
    const empty = await get("/workouts?from=2026-12-01&to=2026-12-31");
    expect(rowIds(empty.html)).toEqual([]);
    expect(text(empty.html)).toContain("No workouts in these dates.");
  });

  it("reads the range form's empty fields as no bound; an impossible, reversed or repeated date is a 400 page, never a 500", async () => {
    const user = await createUser(t, "Pacific/Kiritimati");
    await storeHevy(user.id, [hevy("only", Date.UTC(2026, 9, 1, 12), 30)]);
    const get = await signedIn(t, user);
    // The form sent with both fields blank.
    const blank = await get("/workouts?from=&to=");
    expect(blank.res.status, blank.html).toBe(200);
    expect(rowIds(blank.html)).toEqual(["hevy:only"]);
    // The last representable day has no next day to end at: still a page.
    const far = await get("/workouts?from=2026-10-01&to=9999-12-31");
    expect(far.res.status, far.html).toBe(200);
    expect(rowIds(far.html)).toEqual(["hevy:only"]);
    for (const query of ["from=2026-02-30", "to=2026-13-01", "from=2026-10-05&to=2026-10-04", "from=2026-10-01&from=2026-10-02", "to=20261001"]) {
      const { res, html } = await get(`/workouts?${query}`);
      expect(res.status, query).toBe(400);
      expectPageHeaders(res);
      expect(html).toMatch(/<h1>[^<]+<\/h1>/);
    }
  });

  it("answers a bad query with a 400 page, not a 500", async () => {
    const user = await createUser(t);
    const get = await signedIn(t, user);
    for (const query of ["source=garmin", "cursor=not-a-cursor", "from=yesterday", "from=2026-11-02&to=2026-11-01"]) {
      const { res, html } = await get(`/workouts?${query}`);
      expect(res.status, query).toBe(400);
      expectPageHeaders(res);
      expect(html).toContain('<html lang="en">');
      expect(html).toMatch(/<h1>[^<]+<\/h1>/);
    }
  });

  it("ignores parameters a shared link adds (utm_source, fbclid) and keeps the feed's own", async () => {
    const user = await createUser(t);
    await putSource(t, user, "whoop", [item("W-1", Date.UTC(2026, 10, 20, 7), 30)]);
    const get = await signedIn(t, user);
    const { res, html } = await get("/workouts?source=whoop&utm_source=newsletter&fbclid=abc123");
    expect(res.status, html).toBe(200);
    expect(rowIds(html)).toEqual(["whoop:W-1"]);
    expect(html).not.toContain("utm_source");
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
    // The line chart: best e1RM and heaviest per session, oldest first, as labelled lines with points.
    const chart = /<svg[^>]*id="progress-chart"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    expect(chart, html).toContain('role="img"');
    expect(chart).toMatch(/aria-label="Best estimated 1RM and heaviest weight \(kg\)[^"]*"/);
    expect(chart).toMatch(/<title>Best estimated 1RM and heaviest weight/);
    const points = (series: string) =>
      [...(new RegExp(`<g data-series="${series}">([\\s\\S]*?)</g>`).exec(chart)?.[1] ?? "").matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1]));
    expect(points("Best e1RM").map((v) => Math.round(v * 100) / 100)).toEqual([116.67, 1000]);
    expect(points("Heaviest")).toEqual([100, 1000]);
    expect(text(chart)).toContain("session date");
    expect(chart).toContain(">kg</text>");
    expect(chart).not.toContain("<script");
    // Volume per week, each session in its local (Berlin) Monday week, with a table as its text alternative.
    const week = (daysAgo: number) => mondayOf(localDate(Date.now() - daysAgo * DAY, "Europe/Berlin"));
    const weekCells = (monday: string) => [...(new RegExp(`<tr data-week="${monday}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "").matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => text(m[1]!).trim());
    expect(html).toContain('id="weekly-volume-chart"');
    expect(weekCells(week(20)).slice(1)).toEqual(["1", "500 kg"]); // ten days apart: never the same week
    expect(weekCells(week(10)).slice(1)).toEqual(["2", "1,840 kg"]);
    // The hub links each exercise of its PR table here.
    expect((await get("/hevy?weeks=4")).html).toContain('href="/hevy/exercises/79D0BB3A"');
  });

  it("puts each session's volume in its local Monday week, the same from the weekly rollups as from the sets; an e1RM-less session breaks the e1RM line", async () => {
    const zone = "America/New_York";
    const user = await createUser(t, zone);
    const weeks = mondayWeeks(Date.now(), zone, 4);
    const monday = weeks[1]!.from; // local midnight of a Monday three weeks back: Monday 04:00 or 05:00 UTC
    const bench = (sets: Array<["normal" | "warmup", number, number]>) => ({ template: "79D0BB3A", title: "Bench Press (Barbell)", sets });
    await store(user.id, [
      // Sunday 23:30 in New York (Monday in UTC): the week before.
      workout("sun-late", iso(monday - 30 * MIN), 20, [bench([["warmup", 50, 10], ["normal", 100, 10]])]),
      // 20 reps: a heaviest weight but no e1RM (1–12 reps only).
      workout("mon-early", iso(monday + 30 * MIN), 20, [bench([["normal", 50, 20]])]),
      workout("tue", iso(monday + DAY), 40, [bench([["normal", 1000, 2], ["normal", 1000, 3]]), { template: "D04AC939", title: "Squat (Barbell)", sets: [["normal", 200, 5]] }]),
    ]);
    const get = await signedIn(t, user);
    const weekRows = (html: string) =>
      Object.fromEntries([...html.matchAll(/<tr data-week="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1]!, text(m[2]!).trim()]));

    const computed = await get("/hevy/exercises/79D0BB3A");
    expect(computed.res.status, computed.html).toBe(200);
    const rows = weekRows(computed.html);
    expect(Object.keys(rows)).toHaveLength(26);
    expect(rows[weeks[0]!.weekStart]).toBe(`${formatWeek(weeks[0]!.weekStart)} 1 1,000 kg`);
    expect(rows[weeks[1]!.weekStart]).toBe(`${formatWeek(weeks[1]!.weekStart)} 3 6,000 kg`);
    expect(rows[weeks[2]!.weekStart]).toMatch(/ 0 0 kg$/);

    // The same numbers once the weekly rollups are complete in the user's zone …
    expect(await rebuildRollups({ d1: await dbOf(user.id) }, user.id)).toBe(true);
    expect(weekRows((await get("/hevy/exercises/79D0BB3A")).html)).toEqual(rows);
    // … and they are what the page reads then (a changed rollup row shows).
    await (await dbOf(user.id)).prepare("UPDATE hevy_week_templates SET volume_kg = 12345 WHERE user_id = ? AND template_id = '79D0BB3A' AND week_start = ?")
      .bind(user.id, weeks[1]!.weekStart).run();
    expect(weekRows((await get("/hevy/exercises/79D0BB3A")).html)[weeks[1]!.weekStart]).toMatch(/ 3 12,345 kg$/);

    // The e1RM line has a gap at the 20-rep session; the heaviest line does not.
    const chart = /<svg[^>]*id="progress-chart"[\s\S]*?<\/svg>/.exec(computed.html)?.[0] ?? "";
    const path = (series: string) => new RegExp(`<g data-series="${series}"><path d="([^"]*)"`).exec(chart)?.[1] ?? "";
    expect(path("Best e1RM").match(/M/g)).toHaveLength(2);
    expect(path("Heaviest").match(/M/g)).toHaveLength(1);
    expect(path("Heaviest").match(/L/g)).toHaveLength(2);
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
