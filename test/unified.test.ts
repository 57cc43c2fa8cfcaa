import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { instrumentD1, newD1Stats } from "../src/db/instrument";
import { callWorker, createUser, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill } from "./queue-helpers";
import {
  deleteHevy, feed, feedPage, type FeedRow, hevy, item, iso, MIN, pairsOf, putSource, type SourceItem, storeHevy,
} from "./unified-helpers";

const T0 = Date.UTC(2026, 10, 20, 17, 0, 0);
const DAY = 86_400_000;


describe("GET /api/v1/workouts/unified: rows", () => {
  const t = useTestContext();

  it("gives each kind of row the exact SPEC §7 shape", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [
      hevy("h-merged", T0, 62, { title: "Push", sets: [[60, 10, "warmup"], [100, 5], [102.5, 3]] }),
      hevy("h-solo", T0 - DAY, 45, { title: "Pull" }),
    ]);
    await putSource(t, user, "apple_health", [
      item("ah-1", T0 + 40_000, 61, { title: "Traditional Strength Training", calories_kcal: 410, avg_hr_bpm: 118, max_hr_bpm: 161 }),
      item("ah-walk", T0 - 2 * DAY, 30, { activity_type: "walking", title: "Walk", calories_kcal: 120.5 }),
    ]);
    await putSource(t, user, "whoop", [{ external_id: "w-1", activity_type: "running", start_time: "2026-11-17T06:00:00.250+01:00", end_time: "2026-11-17T06:30:00+01:00" }]);

    expect(await feed(t, user)).toEqual([
      {
        id: "hevy:h-merged", primary_source: "hevy", sources: ["hevy", "apple_health"], activity_type: "strength_training",
        title: "Push", start_time: "2026-11-20T17:00:00Z", end_time: "2026-11-20T18:02:00Z", duration_seconds: 3720,
        strength: { volume_kg: 100 * 5 + 102.5 * 3, set_count: 3, exercise_count: 1 }, // the warm-up counts as a set, not as volume
        calories_kcal: 410, avg_hr_bpm: 118, max_hr_bpm: 161, linked: [{ source: "apple_health", external_id: "ah-1" }],
      },
      {
        id: "hevy:h-solo", primary_source: "hevy", sources: ["hevy"], activity_type: "strength_training", title: "Pull",
        start_time: "2026-11-19T17:00:00Z", end_time: "2026-11-19T17:45:00Z", duration_seconds: 2700,
        strength: { volume_kg: 0, set_count: 0, exercise_count: 0 }, calories_kcal: null, avg_hr_bpm: null, max_hr_bpm: null, linked: [],
      },
      {
        id: "apple_health:ah-walk", primary_source: "apple_health", sources: ["apple_health"], activity_type: "walking", title: "Walk",
        start_time: "2026-11-18T17:00:00Z", end_time: "2026-11-18T17:30:00Z", duration_seconds: 1800, strength: null,
        calories_kcal: 120.5, avg_hr_bpm: null, max_hr_bpm: null, linked: [],
      },
      {
        id: "whoop:w-1", primary_source: "whoop", sources: ["whoop"], activity_type: "running", title: null,
        start_time: "2026-11-17T05:00:00.250Z", end_time: "2026-11-17T05:30:00Z", duration_seconds: 1800, strength: null,
        calories_kcal: null, avg_hr_bpm: null, max_hr_bpm: null, linked: [],
      },
    ]);
  });

  it("keeps users apart", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    await storeHevy(alice.id, [hevy("alice-h", T0, 60)]);
    await putSource(t, alice, "apple_health", [item("shared-id", T0, 60)]);
    await storeHevy(bob.id, [hevy("bob-h", T0 + 30_000, 60)]);
    await putSource(t, bob, "apple_health", [item("shared-id", T0 + 30_000, 60)]);
    expect(await pairsOf(t, alice)).toEqual(["hevy:alice-h+apple_health:shared-id"]);
    expect(await pairsOf(t, bob)).toEqual(["hevy:bob-h+apple_health:shared-id"]);
    expect((await feedPage(t, await createUser(t))).data).toEqual([]);
    await expectProblem(await t.request("/api/v1/workouts/unified"), 401, "unauthorized");
  });
});

/** A mixed history: 12 Hevy (6 merged with Apple Health), 10 Apple Health, 16 from the other three sources, with ties. */
async function mixedHistory(t: TestContext, user: TestUser) {
  const hevyRows = Array.from({ length: 12 }, (_, i) => hevy(`h${String(i).padStart(2, "0")}`, T0 - i * DAY, 50));
  await storeHevy(user.id, hevyRows);
  const apple: SourceItem[] = [
    ...Array.from({ length: 6 }, (_, i) => item(`m${i}`, T0 - 2 * i * DAY + 30_000, 52)), // merged into h00, h02, … h10
    ...Array.from({ length: 4 }, (_, i) => item(`r${i}`, T0 - (2 * i + 1) * DAY + 3 * 3_600_000, 40, { activity_type: "running" })),
  ];
  await putSource(t, user, "apple_health", apple);
  const at = (day: number) => T0 - day * DAY + 3 * 3_600_000; // 3 h after that day's lift: ties across sources
  await putSource(t, user, "whoop", Array.from({ length: 6 }, (_, i) => item(`w${i}`, at(2 * i + 1), 30, { activity_type: "cycling" })));
  await putSource(t, user, "oura", Array.from({ length: 6 }, (_, i) => item(`o${i}`, at(2 * i + 1), 30, { activity_type: "yoga" })));
  await putSource(t, user, "strava", Array.from({ length: 4 }, (_, i) => item(`s${i}`, at(2 * i + 1), 25, { activity_type: "running" })));
  const merged = new Map(Array.from({ length: 6 }, (_, i) => [`h${String(2 * i).padStart(2, "0")}`, `m${i}`]));
  // Worked out from the fixture: every Hevy row, every non-merged other-source row.
  const expected = [
    ...hevyRows.map((h) => ({ id: `hevy:${h.id}`, start: h.startTime, sources: merged.has(h.id) ? ["hevy", "apple_health"] : ["hevy"] })),
    ...apple.filter((a) => a.external_id.startsWith("r")).map((a) => ({ id: `apple_health:${a.external_id}`, start: Date.parse(a.start_time), sources: ["apple_health"] })),
    ...["w0", "w1", "w2", "w3", "w4", "w5"].map((id, i) => ({ id: `whoop:${id}`, start: at(2 * i + 1), sources: ["whoop"] })),
    ...["o0", "o1", "o2", "o3", "o4", "o5"].map((id, i) => ({ id: `oura:${id}`, start: at(2 * i + 1), sources: ["oura"] })),
    ...["s0", "s1", "s2", "s3"].map((id, i) => ({ id: `strava:${id}`, start: at(2 * i + 1), sources: ["strava"] })),
  ].sort((a, b) => b.start - a.start || (b.id > a.id ? 1 : -1));
  return expected;
}

describe("GET /api/v1/workouts/unified: paging and filters", () => {
  const t = useTestContext();

  it("pages newest first (ties by id, descending) through every row once, at any page size", async () => {
    const user = await createUser(t);
    const expected = await mixedHistory(t, user);
    expect(expected).toHaveLength(12 + 4 + 16);
    for (const limit of [1, 7, 100]) {
      const rows = await feed(t, user, `limit=${limit}`);
      expect(rows.map((r) => [r.id, Date.parse(r.start_time), r.sources])).toEqual(expected.map((e) => [e.id, e.start, e.sources]));
    }
    const first = await feedPage(t, user);
    expect(first.data).toHaveLength(20);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect((await feedPage(t, user, "limit=32")).next_cursor).toBeNull();
  });

  it("filters by source (merged rows under both of theirs) and by start_time (from inclusive, to exclusive)", async () => {
    const user = await createUser(t);
    const expected = await mixedHistory(t, user);
    const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);
    for (const source of ["hevy", "apple_health", "whoop", "oura", "strava"]) {
      const rows = await feed(t, user, `source=${source}&limit=5`);
      expect(ids(rows), source).toEqual(ids(expected.filter((e) => e.sources.includes(source))));
    }
    expect(ids(await feed(t, user, "source=apple_health&limit=100")).filter((id) => id.startsWith("hevy:"))).toEqual(
      ["hevy:h00", "hevy:h02", "hevy:h04", "hevy:h06", "hevy:h08", "hevy:h10"],
    );
    const from = T0 - 5 * DAY + 3 * 3_600_000; // exactly the start of the ties of day 5: included
    const to = T0 - DAY; // exactly the start of h01: excluded
    const inRange = await feed(t, user, `from=${iso(from)}&to=${iso(to)}&limit=3`);
    expect(ids(inRange)).toEqual(ids(expected.filter((e) => e.start >= from && e.start < to)));
    expect(ids(inRange)).toContain("whoop:w2");
    expect(ids(inRange)).not.toContain("hevy:h01");
    expect(ids(await feed(t, user, `source=oura&from=${iso(from)}&to=${iso(to)}`))).toEqual(["oura:o1", "oura:o2"]);
  });

  it("is stable under inserts while paging: no duplicates, no gaps", async () => {
    const user = await createUser(t);
    const expected = await mixedHistory(t, user);
    const first = await feedPage(t, user, "limit=10");
    const cutoff = Date.parse(first.data.at(-1)!.start_time);
    // New rows newer than the cursor (must not reappear now) and older (must show).
    await storeHevy(user.id, [hevy("new-old", cutoff - 60 * MIN, 30), hevy("new-new", T0 + DAY, 30)]);
    await putSource(t, user, "oura", [item("new-older", cutoff - 90 * MIN, 30)]);
    const rest: FeedRow[] = [];
    let cursor = first.next_cursor;
    for (let pages = 0; cursor; pages++) {
      if (pages > 20) throw new Error("the feed did not end");
      const page = await feedPage(t, user, `limit=10&cursor=${cursor}`);
      rest.push(...page.data);
      cursor = page.next_cursor;
    }
    const seen = [...first.data, ...rest].map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => !id.startsWith("hevy:new") && id !== "oura:new-older")).toEqual(expected.map((e) => e.id));
    expect(seen).toContain("hevy:new-old");
    expect(seen).toContain("oura:new-older");
    expect(seen).not.toContain("hevy:new-new");
  });

  it("never shows deleted Hevy workouts", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("keep", T0, 60), hevy("gone", T0 - DAY, 60)]);
    await deleteHevy(user.id, ["gone", "never-seen"]); // a tombstone for an unseen id too
    expect((await feed(t, user)).map((r) => r.id)).toEqual(["hevy:keep"]);
  });

  it("answers bad parameters with 400 naming them", async () => {
    const user = await createUser(t);
    const cases: Array<[string, string]> = [
      ["limit=0", "limit"], ["limit=101", "limit"], ["limit=x", "limit"], ["source=garmin", "source"], ["source=HEVY", "source"],
      ["from=2026-02-30", "from"], ["to=tomorrow", "to"], ["from=2026-11-20&to=2026-11-19", "from"],
      ["cursor=%%%", "cursor"], [`cursor=${btoa('{"s":1}')}`, "cursor"], ["sort=asc", ""],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await t.request(`/api/v1/workouts/unified?${query}`, { token: user.token }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path), query).toContain(path);
    }
  });
});

describe("GET /api/v1/workouts/unified: cost", () => {
  const t = useTestContext();

  /** One page through an instrumented D1: round trips, statements and the rows SQLite read. */
  async function measure(user: TestUser, query: string) {
    const stats = newD1Stats();
    let rowsRead = 0;
    // Every binding counted, the directory (the token lookup) and the user's shard (the page) alike.
    const wrapD1 = (real: D1Database) => {
      const counted = instrumentD1(real, stats);
      return {
        ...counted,
        prepare: (q: string) => counted.prepare(q),
        batch: async (s: D1PreparedStatement[]) => {
          const results = await counted.batch(s);
          for (const r of results) rowsRead += r.meta.rows_read ?? 0;
          return results;
        },
      } as unknown as D1Database;
    };
    const app = createApp({ deps: { wrapD1 } });
    const res = await callWorker(t.env, `/api/v1/workouts/unified?${query}`, { token: user.token, app });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: FeedRow[]; next_cursor: string | null };
    return { roundTrips: stats.roundTrips, statements: stats.statements, rowsRead, rows: body.data.length, cursor: body.next_cursor };
  }

  it("costs the same D1 queries per page whatever the limit, filter or position", async () => {
    const user = await createUser(t);
    await mixedHistory(t, user);
    const small = await measure(user, "limit=1");
    expect(small).toMatchObject({ roundTrips: 2, statements: 2 }); // the token lookup, then the page: one statement
    for (const query of ["limit=100", "limit=5&source=apple_health", "limit=5&source=hevy", "limit=5&source=whoop", `limit=3&cursor=${small.cursor}`]) {
      expect(await measure(user, query), query).toMatchObject({ roundTrips: 2, statements: 2 });
    }
  });

  it("reads about `limit` rows per page, not the whole history (indexes)", async () => {
    const user = await createUser(t);
    const n = 400;
    // n Hevy workouts, half of them merged with Apple Health, and n WHOOP workouts.
    await storeHevy(user.id, Array.from({ length: n }, (_, i) => hevy(`bulk-${i}`, T0 - i * DAY, 40)));
    await putSource(t, user, "apple_health", Array.from({ length: n / 2 }, (_, i) => item(`bulk-${i}`, T0 - 2 * i * DAY + 20_000, 40)));
    await putSource(t, user, "whoop", Array.from({ length: n }, (_, i) => item(`bulk-${i}`, T0 - i * DAY + 7_200_000, 30)));
    const head = await measure(user, "limit=10");
    const middle = await measure(user, `limit=10&cursor=${(await feedPage(t, user, "limit=100")).next_cursor}`);
    const apple = await measure(user, "limit=10&source=apple_health");
    const whoop = await measure(user, "limit=10&source=whoop");
    for (const m of [head, middle, apple, whoop]) {
      expect(m.rows).toBe(10);
      expect(m.rowsRead).toBeLessThan(60); // of 1,000 feed rows stored (about 35 measured)
    }
  });
});

describe("GET /api/v1/workouts/unified: through the real sync", () => {
  const t = useTestContext();

  it("follows a backfill, a delta's edit and deletion, a webhook's late arrival and a purge", async () => {
    const user = await createUser(t);
    const account = t.hevy.createAccount();
    const at = (ms: number) => new Date(ms).toISOString();
    const a = t.hevy.putWorkout(account.apiKey, { title: "A", start_time: at(T0), end_time: at(T0 + 60 * MIN) });
    const b = t.hevy.putWorkout(account.apiKey, { title: "B", start_time: at(T0 - DAY), end_time: at(T0 - DAY + 60 * MIN) });
    expect((await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
    await drainQueue(t, { backfill: fastBackfill() });
    await putSource(t, user, "apple_health", [item("ah-a", T0 + 30_000, 60), item("ah-b", T0 - DAY - 30_000, 60), item("ah-c", T0 - 2 * DAY, 60)]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:ah-c", `hevy:${a.id}+apple_health:ah-a`, `hevy:${b.id}+apple_health:ah-b`].sort());

    const sync = async () => {
      expect((await t.request("/api/v1/connections/hevy/sync", { method: "POST", token: user.token })).status).toBe(202);
      await drainQueue(t);
    };
    // Edited in Hevy: A moved an hour later. Deleted in Hevy: B.
    t.hevy.putWorkout(account.apiKey, { id: a.id, title: "A", start_time: at(T0 + 60 * MIN), end_time: at(T0 + 120 * MIN) });
    t.hevy.deleteWorkout(account.apiKey, b.id);
    await sync();
    expect(await pairsOf(t, user)).toEqual(["apple_health:ah-a", "apple_health:ah-b", "apple_health:ah-c", `hevy:${a.id}`].sort());

    // Logged late in Hevy, announced by the webhook: it pairs with the Apple Health workout already there.
    const c = t.hevy.putWorkout(account.apiKey, { title: "C", start_time: at(T0 - 2 * DAY + 90_000), end_time: at(T0 - 2 * DAY + 58 * MIN) });
    const delivery = t.hevy.webhookDelivery(account.apiKey, c.id)!;
    const hook = await t.request(new URL(delivery.url).pathname, { method: "POST", headers: delivery.headers, body: await delivery.text() });
    expect(hook.status).toBe(200);
    await drainQueue(t);
    expect(await pairsOf(t, user)).toEqual(["apple_health:ah-a", "apple_health:ah-b", `hevy:${a.id}`, `hevy:${c.id}+apple_health:ah-c`].sort());

    // Disconnected with purge: every Hevy row goes, the Apple Health workouts stand alone again.
    expect((await t.request("/api/v1/connections/hevy?purge=true", { method: "DELETE", token: user.token })).status).toBe(204);
    expect(await pairsOf(t, user)).toEqual(["apple_health:ah-a", "apple_health:ah-b", "apple_health:ah-c"]);
    expect((await feed(t, user, "source=hevy")).length).toBe(0);
  });
});
