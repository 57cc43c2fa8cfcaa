import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runBatch } from "../src/db/batch";
import type { Workout } from "../src/hevy/types";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "../src/services/sync/store";
import { queueRollupRebuilds } from "../src/services/metrics/rollup-rebuild";
import { getSummary } from "../src/services/metrics/summary";
import { rollupOwner, type RollupOwner } from "../src/services/metrics/rollups";
import { ADMIN_TOKEN, createUser, dataDbs, dbOf, type TestContext, type TestUser, useTestContext } from "./helpers";
import { getAt, type Pr, template, uniqueId } from "./metrics-fixtures";
import {
  expectedMuscleGroups, expectedPrs, expectedTrend, expectedWeekRows, expectedWeekTemplateRows, firstInstantOf, type Groups,
  localDateIn, mondayOnOrBefore, type Row, shiftDate, weekAt, weekOfMonday,
} from "./metrics-oracle";
import { drainQueue } from "./queue-helpers";

// The numbers kept at write time (SPEC §12) against a from-scratch recomputation written here,
// independently of the code under test: a seeded random history of creates, edits (sets added,
// removed, re-typed, re-weighted; exercises re-templated; starts moved), deletions,
// re-creations, out-of-order versions and duplicates goes through the sync's write path one
// batch at a time, and after every batch the API's answer equals the recomputation.
//
// Each history runs in a zone of its own (DST, a 30-minute DST, a +05:45 offset, a skipped local
// Monday midnight), its starts aimed at the DST changes and at local Sunday/Monday midnight. After
// every batch the weekly and per-template rollups equal the oracle's rows; every few batches the
// trend and muscle-group answers, read from the rollups and computed from the sets, equal each
// other and the oracle's. Two more histories change the user's zone midway.

const NOW = "2026-06-30T12:00:00Z";

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}
type Rng = ReturnType<typeof rng>;

const HOUR = 3_600_000;
const DAY_MS = 86_400_000;

const clocks = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at `ms` (wall clock minus UTC), from Intl: only to find the DST changes to aim starts at. */
function offsetAt(ms: number, zone: string): number {
  let clock = clocks.get(zone);
  if (!clock) {
    clock = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    clocks.set(zone, clock);
  }
  const parts = clock.formatToParts(ms);
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value) % (type === "hour" ? 24 : Infinity);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - Math.floor(ms / 1000) * 1000;
}

/** The first instants of a new offset in `zone` during `year`. */
function offsetChanges(zone: string, year: number): number[] {
  const changes: number[] = [];
  for (let day = Date.UTC(year, 0, 1); day < Date.UTC(year + 1, 0, 1); day += DAY_MS) {
    let lo = day;
    let hi = day + DAY_MS;
    if (offsetAt(lo, zone) === offsetAt(hi, zone)) continue;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid;
      else hi = mid;
    }
    changes.push(hi);
  }
  return changes;
}

/**
 * Starts worth trying in `zone`: around each DST change of 2026 (2021 for a zone that no longer
 * changes — Asia/Tehran's 2021 change skipped Monday 00:00) the change itself ± 1 ms, and local
 * midnight (and 1 ms before) of the Monday starting its week and of the next Monday; an ordinary
 * June week's Sunday/Monday midnight; and odd starts (before 1970, after 2262): nothing may pack a
 * start into a bounded number.
 */
function startsFor(zone: string): number[] {
  const starts = new Set<number>();
  const in2026 = offsetChanges(zone, 2026);
  const changes = in2026.length > 0 ? in2026 : offsetChanges(zone, 2021);
  for (const change of changes) {
    const monday = mondayOnOrBefore(localDateIn(change, zone));
    const m0 = firstInstantOf(monday, zone);
    const m1 = firstInstantOf(shiftDate(monday, 7), zone);
    for (const at of [change - 1, change, change + 30 * 60_000, m0 - 1, m0, m1 - 1, m1, m1 + 1]) starts.add(at);
  }
  const june = firstInstantOf("2026-06-01", zone); // a Monday
  for (const at of [june - 1, june, june - 30 * 60_000, june + 30 * 60_000, june + 2 * DAY_MS + 8 * HOUR, june + 7 * DAY_MS - 1, june + 7 * DAY_MS]) starts.add(at);
  for (const at of [Date.parse("1965-03-01T08:00:00Z"), Date.parse("2300-01-01T08:00:00Z"), firstInstantOf("1965-03-01", zone), firstInstantOf("2300-01-01", zone) - 1]) starts.add(at);
  return [...starts].sort((a, b) => a - b);
}

/** Templates for the muscle-group rollups: built-ins, a user's custom one over a built-in id, and an id no template row has. */
async function makeTemplates(userId: string) {
  const [a, b, c, d, unknown] = ["A", "B", "C", "D", "E"].map((n) => uniqueId(`T${n}`)) as [string, string, string, string, string];
  const builtIn = new Map<string, Groups>([
    [a, { primary: "chest", secondary: ["triceps", "shoulders"] }],
    [b, { primary: "lats", secondary: ["biceps"] }],
    [c, { primary: "quadriceps", secondary: [] }],
    [d, { primary: "chest", secondary: [] }],
  ]);
  const custom = new Map<string, Groups>([[d, { primary: "hamstrings", secondary: ["glutes"] }]]);
  for (const [i, [id, g]] of [...builtIn].entries()) await template("", id, `Exercise ${i}`, g.primary, g.secondary);
  for (const [id, g] of custom) await template(userId, id, "My exercise", g.primary, g.secondary);
  return { ids: [a, b, c, d, unknown], groups: { builtIn, custom } };
}

/**
 * A seeded random history of one user's workouts, written one batch at a time through the sync's
 * write path, with `rows` the oracle's copy of what the store keeps. A step's writer takes the
 * owner from rollupOwner (the zone the rollups are in now) unless given a stale one.
 */
function history(user: TestUser, seed: number, r: Rng, templates: readonly string[], starts: readonly number[]) {
  // The user's database (their shard, SPEC §12), looked up once.
  let userDb: Promise<D1Database> | undefined;
  const db = () => (userDb ??= dbOf(user.id));
  const ids = Array.from({ length: 10 }, (_, i) => `w${String(i).padStart(2, "0")}-${seed}`);
  const rows = new Map<string, Row>();
  let clock = 1_000_000;
  let now = Date.now();

  const randomWorkout = (id: string, version: number): Workout => ({
    id, title: `Workout ${id}`, description: null, routineId: null,
    startTime: r.pick(starts), endTime: r.pick(starts) + 3_600_000, updatedAt: version, createdAt: null,
    exercises: Array.from({ length: r.int(0, 3) }, (_, i) => ({
      // Indices are Hevy's: usually 0, 1, 2…, now and then large.
      index: r.next() < 0.1 ? 1000 + i : i, title: `Exercise ${i}`, notes: null, supersetId: null,
      exerciseTemplateId: r.next() < 0.1 ? null : r.pick(templates),
      sets: Array.from({ length: r.int(0, 4) }, (_, i) => ({
        index: r.next() < 0.1 ? 1000 + i : i, type: r.pick(["warmup", "normal", "normal", "failure", "dropset", "cluster"] as const),
        weightKg: r.pick([null, 0, 20, 40, 60, 60.5, 100, 102.5]), reps: r.pick([null, 0, 1, 3, 5, 8, 12, 13, 2.5]),
        distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null,
      })),
    })),
  });
  /** The store's version guard, as SPEC §5 states it. */
  const apply = (w: Workout) => {
    const row = rows.get(w.id);
    if (!row || (w.updatedAt > row.version && (row.deletedAt === null || w.updatedAt > row.deletedAt))) {
      rows.set(w.id, { version: w.updatedAt, deletedAt: null, workout: w });
    }
  };
  const tombstone = (id: string, at: number) => {
    const row = rows.get(id);
    if (!row) rows.set(id, { version: 0, deletedAt: at, workout: null });
    else if ((row.deletedAt === null || row.deletedAt < at) && row.version <= at) rows.set(id, { ...row, deletedAt: at, workout: null });
  };
  const ownerNow = async (stale?: RollupOwner) => stale ?? (await rollupOwner(await db(), user.id));

  return {
    rows,
    async step(stale?: RollupOwner) {
      now += 1;
      const roll = r.next();
      if (roll < 0.55) {
        // Creates, edits and re-creations, one to three workouts a batch, now and then the same one twice.
        const batch = Array.from({ length: r.int(1, 3) }, () => randomWorkout(r.pick(ids), (clock += r.int(1, 5))));
        if (r.next() < 0.15) batch.push({ ...randomWorkout(batch[0]!.id, batch[0]!.updatedAt), updatedAt: batch[0]!.updatedAt - 1 });
        await runBatch(await db(), upsertWorkoutsStatements(await ownerNow(stale), batch, now));
        const latest = new Map<string, Workout>();
        for (const w of batch) if (!latest.has(w.id) || w.updatedAt >= latest.get(w.id)!.updatedAt) latest.set(w.id, w);
        for (const w of latest.values()) apply(w);
      } else if (roll < 0.7) {
        // An older version arriving late: ignored.
        const w = randomWorkout(r.pick(ids), clock - r.int(1, 50));
        await runBatch(await db(), upsertWorkoutsStatements(await ownerNow(stale), [w], now));
        apply(w);
      } else if (roll < 0.92) {
        const id = r.pick(ids);
        const at = (clock += r.int(1, 5));
        await runBatch(await db(), deleteWorkoutsStatements(await ownerNow(stale), [{ id, deletedAt: at }], now));
        tombstone(id, at);
      } else {
        // A deletion older than the stored version: ignored.
        const id = r.pick(ids);
        const at = clock - r.int(1, 50);
        await runBatch(await db(), deleteWorkoutsStatements(await ownerNow(stale), [{ id, deletedAt: at }], now));
        tombstone(id, at);
      }
    },
    /** Deletes every live workout, one batch. */
    async deleteAll() {
      const live = [...rows].filter(([, row]) => row.workout !== null).map(([id]) => ({ id, deletedAt: (clock += 1) }));
      now += 1;
      if (live.length > 0) await runBatch(await db(), deleteWorkoutsStatements(await ownerNow(), live, now));
      for (const d of live) tombstone(d.id, d.deletedAt);
    },
  };
}

async function stateZone(userId: string): Promise<string | null> {
  const row = await (await dbOf(userId)).prepare("SELECT zone FROM hevy_rollup_state WHERE user_id = ?").bind(userId).first<{ zone: string }>();
  return row?.zone ?? null;
}

/** hevy_weeks and hevy_week_templates equal the oracle's rows in `zone`; no week is left marked. */
async function expectRollupsAsOracle(userId: string, zone: string, rows: Map<string, Row>, label: string) {
  const db = await dbOf(userId);
  const { results: weeks } = await db
    .prepare("SELECT week_start, from_ms, to_ms, workouts, sets, volume_kg, dirty FROM hevy_weeks WHERE user_id = ? ORDER BY week_start")
    .bind(userId)
    .all<{ week_start: string; from_ms: number; to_ms: number; workouts: number; sets: number; volume_kg: number; dirty: number }>();
  expect(weeks.filter((w) => w.dirty !== 0), `${label}: weeks left marked`).toEqual([]);
  expect(weeks.filter((w) => w.workouts > 0).map(({ dirty: _d, ...w }) => w), `${label}: hevy_weeks`).toEqual(expectedWeekRows(rows, zone));
  // Weeks emptied by deletions and moves may stay: zero, and still bounded by their local Mondays.
  const empty = weeks.filter((w) => w.workouts === 0);
  expect(empty.map(({ dirty: _d, ...w }) => w), `${label}: empty hevy_weeks rows`)
    .toEqual(empty.map((w) => ({ ...weekOfMonday(w.week_start, zone), workouts: 0, sets: 0, volume_kg: 0 })));
  const { results: templates } = await db
    .prepare("SELECT week_start, template_id, sets, volume_kg FROM hevy_week_templates WHERE user_id = ? ORDER BY week_start, template_id")
    .bind(userId)
    .all();
  expect(templates, `${label}: hevy_week_templates`).toEqual(expectedWeekTemplateRows(rows, zone));
}

interface Query { path: string; now: string; expected: unknown }

/**
 * Trend and muscle-group queries with their oracle answers: the trend at a random now near a
 * picked start (so windows end around DST weeks and midnights), muscle groups over all time, over
 * whole local weeks, over a range ending mid-week (ends at starts ± 1 ms) and over a one-sided range.
 */
function queries(c: Rng, zone: string, rows: Map<string, Row>, starts: readonly number[], groups: Parameters<typeof expectedMuscleGroups>[1]): Query[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const near = () => c.pick(starts) + c.pick([0, 0, -1, 1, 5 * HOUR]);
  const trendNow = near();
  const weeks = c.pick([1, 2, 5, 12, 104]);
  const out: Query[] = [
    { path: `/api/v1/hevy/trends?weeks=${weeks}`, now: iso(trendNow), expected: expectedTrend(rows, zone, trendNow, weeks) },
  ];
  const groupsQuery = (range: { from?: number; to?: number }): Query => {
    const qs = [range.from === undefined ? "" : `from=${iso(range.from)}`, range.to === undefined ? "" : `to=${iso(range.to)}`].filter(Boolean).join("&");
    return { path: `/api/v1/hevy/muscle-groups${qs ? `?${qs}` : ""}`, now: NOW, expected: { data: expectedMuscleGroups(rows, groups, range), next_cursor: null } };
  };
  out.push(groupsQuery({}));
  const [a, b] = [c.pick(starts), c.pick(starts)].sort((x, y) => x - y) as [number, number];
  out.push(groupsQuery({ from: weekAt(a, zone).from_ms, to: weekAt(b, zone).to_ms }));
  const [f, t] = [near(), near()].sort((x, y) => x - y) as [number, number];
  out.push(groupsQuery({ from: f, to: t }));
  out.push(groupsQuery(c.next() < 0.5 ? { from: near() } : { to: near() }));
  return out;
}

/**
 * The answers read from the rollups (state row present) equal those computed from the sets (state
 * row deleted for the reads, then put back), and both equal the oracle's. Without a state row (a
 * rebuild pending), only the answers computed from the sets, against the oracle.
 */
async function expectAnswersAsOracle(t: TestContext, user: TestUser, qs: Query[], label: string) {
  const ask = async () => {
    const got: unknown[] = [];
    for (const q of qs) got.push(await getAt(t, user, q.path, q.now));
    return got;
  };
  const zone = await stateZone(user.id);
  const db = await dbOf(user.id);
  const fromRollups = zone === null ? null : await ask();
  if (zone !== null) await db.prepare("DELETE FROM hevy_rollup_state WHERE user_id = ?").bind(user.id).run();
  let fromSets: unknown[];
  try {
    fromSets = await ask();
  } finally {
    if (zone !== null) await db.prepare("INSERT INTO hevy_rollup_state (user_id, zone) VALUES (?, ?)").bind(user.id, zone).run();
  }
  expect(fromSets, `${label}: computed from the sets vs the oracle (${qs.map((q) => `${q.path} @${q.now}`).join(", ")})`).toEqual(qs.map((q) => q.expected));
  if (fromRollups) expect(fromRollups, `${label}: read from the rollups vs computed from the sets`).toEqual(fromSets);
}

/** How often the API answers are compared (every step's rollup rows are). */
const ANSWERS_EVERY = 5;

const HISTORIES = [
  { seed: 1, zone: "Europe/Berlin" },
  { seed: 2, zone: "America/New_York" },
  { seed: 3, zone: "UTC" },
  { seed: 4, zone: "Australia/Lord_Howe" },
  { seed: 5, zone: "Asia/Kathmandu" },
  { seed: 6, zone: "Asia/Tehran" },
];

describe("numbers kept at write time", () => {
  const t = useTestContext();

  for (const { seed, zone: asked } of HISTORIES) {
    it(`equal a from-scratch recomputation after every step of a random history (seed ${seed}, ${asked})`, async () => {
      const user = await createUser(t, asked);
      // The zone as stored (the canonical spelling Intl gives: Asia/Kathmandu may come back as Asia/Katmandu).
      const zone = (await env.DB.prepare("SELECT timezone FROM users WHERE id = ?").bind(user.id).first<{ timezone: string }>())!.timezone;
      const r = rng(seed);
      // The queries' own generator, so how often answers are compared leaves the history as it is.
      const c = rng(seed * 7919 + 17);
      const { ids: templates, groups } = await makeTemplates(user.id);
      const starts = startsFor(zone);
      const h = history(user, seed, r, templates, starts);
      const rows = h.rows;

      for (let step = 0; step < 150; step++) {
        await h.step();

        const { data } = await getAt<{ data: Pr[] }>(t, user, "/api/v1/hevy/prs", NOW);
        const got = data
          .map(({ exercise_title: _title, ...p }) => p)
          .sort((a, b) => (a.exercise_template_id + a.kind < b.exercise_template_id + b.kind ? -1 : 1));
        expect(got, `seed ${seed}, step ${step}`).toEqual(expectedPrs(rows));

        const label = `seed ${seed} (${zone}), step ${step}`;
        expect(await stateZone(user.id), `${label}: rollup state`).toBe(zone);
        await expectRollupsAsOracle(user.id, zone, rows, label);
        if (step % ANSWERS_EVERY === ANSWERS_EVERY - 1) await expectAnswersAsOracle(t, user, queries(c, zone, rows, starts, groups), label);
      }
      // In every database that may hold users' rows (the directory and each shard).
      let dirty = 0;
      for (const db of dataDbs()) dirty += (await db.prepare("SELECT count(*) AS n FROM hevy_pr_dirty").first<{ n: number }>())!.n;
      expect(dirty).toBe(0);
    });
  }

  /** A Berlin user, its templates and a seeded history whose starts are worth trying in Berlin and New York alike. */
  async function zoneChangeHistory(seed: number) {
    const [oldZone, newZone] = ["Europe/Berlin", "America/New_York"] as const;
    const user = await createUser(t, oldZone);
    const r = rng(seed);
    const c = rng(seed * 7919 + 17);
    const { ids: templates, groups } = await makeTemplates(user.id);
    // Starts worth trying in either zone: a week boundary in one is mid-week in the other.
    const starts = [...new Set([...startsFor(oldZone), ...startsFor(newZone)])].sort((a, b) => a - b);
    const h = history(user, seed, r, templates, starts);
    return { oldZone, newZone, user, c, groups, starts, h, rows: h.rows };
  }

  it("follow a zone change in the middle of a random history: the rebuild, writes before and after it, and a write in the old zone", async () => {
    const { oldZone, newZone, user, c, groups, starts, h, rows } = await zoneChangeHistory(11);
    const live = () => [...rows.values()].filter((row) => row.workout !== null).length;
    const patch = async (timezone: string) => {
      const res = await t.request(`/admin/v1/users/${user.id}`, { method: "PATCH", token: ADMIN_TOKEN, json: { timezone } });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { timezone: string }).timezone).toBe(timezone);
    };
    const check = async (zone: string, label: string, rollups: boolean, answers = true) => {
      if (rollups) {
        expect(await stateZone(user.id), `${label}: rollup state`).toBe(zone);
        await expectRollupsAsOracle(user.id, zone, rows, label);
      }
      if (answers) await expectAnswersAsOracle(t, user, queries(c, zone, rows, starts, groups), label);
    };

    for (let step = 0; step < 40; step++) {
      await h.step();
      await check(oldZone, `before the change, step ${step}`, true, step % ANSWERS_EVERY === 0);
    }
    expect(live()).toBeGreaterThan(0);

    // The change: the old-zone rollups stop counting at once and a rebuild is queued.
    await patch(newZone);
    expect(await stateZone(user.id)).toBeNull();
    expect(t.queue.messages).toEqual([{ type: "rebuild_rollups", userId: user.id }]);
    await check(newZone, "right after the change", false);

    // Writes before the rebuild has run: they keep no rollups (no state row), one of them in the
    // zone its writer read before the change.
    for (let step = 40; step < 50; step++) {
      await h.step(step === 45 ? { userId: user.id, rollupZone: oldZone } : undefined);
      expect(await stateZone(user.id), `pending rebuild, step ${step}`).toBeNull();
      await check(newZone, `pending rebuild, step ${step}`, false);
    }

    await drainQueue(t);
    await check(newZone, "after the rebuild", true);

    for (let step = 50; step < 110; step++) {
      // A writer that read the zone before the change: its batch leaves the rollups alone and drops
      // the state row; the cron's sweep queues a rebuild.
      if (step === 80) {
        await h.step({ userId: user.id, rollupZone: oldZone });
        expect(await stateZone(user.id), "after a write in the old zone").toBeNull();
        await check(newZone, "after a write in the old zone", false);
        expect(live(), "live workouts, so the sweep has a rebuild to queue").toBeGreaterThan(0);
        // The cron's sweep of the database the user lives in (it runs per database: SPEC §12).
        await queueRollupRebuilds({ d1: await dbOf(user.id), queue: t.env.SYNC_QUEUE });
        expect(t.queue.messages).toContainEqual({ type: "rebuild_rollups", userId: user.id });
        await drainQueue(t);
      } else {
        await h.step();
      }
      await check(newZone, `after the change, step ${step}`, true, step % 2 === 0);
    }
  });

  it("follow a zone change made while the user has no live workout: the weeks emptied in the old zone do not count in the new one", async () => {
    const { oldZone, newZone, user, c, groups, starts, h, rows } = await zoneChangeHistory(12);

    for (let step = 0; step < 30; step++) await h.step();
    await expectRollupsAsOracle(user.id, oldZone, rows, "before");
    await h.deleteAll();
    await expectRollupsAsOracle(user.id, oldZone, rows, "all deleted");

    const res = await t.request(`/admin/v1/users/${user.id}`, { method: "PATCH", token: ADMIN_TOKEN, json: { timezone: newZone } });
    expect(res.status).toBe(200);
    // No live workout: the (empty) rollups are complete in the new zone at once, no rebuild.
    expect(t.queue.messages).toEqual([]);
    expect(await stateZone(user.id)).toBe(newZone);
    for (let step = 30; step < 90; step++) {
      await h.step();
      const label = `after the change, step ${step}`;
      await expectRollupsAsOracle(user.id, newZone, rows, label);
      if (step % ANSWERS_EVERY === 0) await expectAnswersAsOracle(t, user, queries(c, newZone, rows, starts, groups), label);
    }
  });
});

const DAY = 86_400_000;

describe("what keeping PRs and rollups costs a write", () => {
  const t = useTestContext();

  /** Rows D1 read to store one page of 10 new workouts for a user who already has `stored` of them. */
  async function rowsReadForAPage(stored: number, retitleLatest = false): Promise<number> {
    const user = await createUser(t);
    const tid = uniqueId("T");
    await template("", tid, "Bench Press", "chest", []);
    const make = (i: number): Workout => ({
      id: `w-${i}`, title: `W${i}`, description: null, routineId: null,
      // One a day: a write recomputes the weeks it touches (rollups), so what must not grow with the
      // history is the rest — a week holds at most seven workouts here, at 20 stored as at 300.
      startTime: Date.parse("2026-01-01T08:00:00Z") + i * DAY, endTime: Date.parse("2026-01-01T09:00:00Z") + i * DAY,
      updatedAt: 1_000 + i, createdAt: null,
      exercises: [{ index: 0, title: "Bench Press", notes: null, supersetId: null, exerciseTemplateId: tid,
        sets: [40, 60, 80].map((kg, si) => ({ index: si, type: "normal", weightKg: kg + i / 1000, reps: 5, distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null })) }],
    });
    const db = await dbOf(user.id);
    for (let i = 0; i < stored; i += 50) {
      await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, user.id), Array.from({ length: Math.min(50, stored - i) }, (_, j) => make(i + j)), Date.now()));
    }
    // The latest workout holds every PR (the heaviest sets); a new version with a new title only.
    const page = retitleLatest
      ? [{ ...make(stored - 1), title: "Renamed", updatedAt: 5_000_000 }]
      : Array.from({ length: 10 }, (_, j) => make(stored + j));
    const results = await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, user.id), page, Date.now()));
    return results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0);
  }

  it("reads about as many rows for a page with 300 workouts stored as with 20: nothing scans the history", async () => {
    const small = await rowsReadForAPage(20);
    const large = await rowsReadForAPage(300);
    expect(large).toBeLessThan(small + 60);
  });

  it("reads about as many rows to re-store the workout holding every PR with its sets unchanged (a title edit) at 300 as at 20", async () => {
    const small = await rowsReadForAPage(20, true);
    const large = await rowsReadForAPage(300, true);
    expect(large).toBeLessThan(small + 60);
  });
});

const NOW_SUMMARY = "2026-11-27T12:00:00Z";

describe("what a summary reads", () => {
  const t = useTestContext();

  /**
   * A user who trains one workout a day, ending now; `readAt(count)` stores their workouts up to
   * `count` (the older ones) and answers the rows D1 read for GET /hevy/summary?weeks=12 (one batch).
   * One user grown from the smaller history to the larger, on their shard: D1 counts the row a range
   * scan stops on, which may be another user's, so two users (on two shards, SPEC §12, or one) could
   * differ by a row with nothing to do with the history's size.
   */
  async function summaryReader() {
    const user = await createUser(t);
    const tids = [uniqueId("T"), uniqueId("T"), uniqueId("T")];
    for (const [i, tid] of tids.entries()) await template("", tid, `Lift ${i}`, ["chest", "back", "quadriceps"][i]!, ["triceps"]);
    const end = Date.parse(NOW_SUMMARY) - DAY;
    const make = (i: number): Workout => ({
      id: `s-${i}`, title: `S${i}`, description: null, routineId: null,
      startTime: end - i * DAY, endTime: end - i * DAY + 3_600_000, updatedAt: 1_000 + i, createdAt: null,
      exercises: tids.map((tid, index) => ({ index, title: `Lift ${index}`, notes: null, supersetId: null, exerciseTemplateId: tid,
        sets: [60, 80].map((kg, si) => ({ index: si, type: si === 0 ? "warmup" : "normal", weightKg: kg + (i % 7), reps: 5, distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null })) })),
    });
    const db = await dbOf(user.id);
    let stored = 0;
    return async (count: number): Promise<{ rows: number; summary: Awaited<ReturnType<typeof getSummary>> }> => {
      for (let i = stored; i < count; i += 50) {
        await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, user.id), Array.from({ length: Math.min(50, count - i) }, (_, j) => make(i + j)), Date.now()));
      }
      stored = count;
      let rows = 0;
      const counting = {
        prepare: (q: string) => db.prepare(q),
        batch: async (statements: D1PreparedStatement[]) => {
          const results = await db.batch(statements);
          rows += results.reduce((n, r) => n + (r.meta.rows_read ?? 0), 0);
          return results;
        },
      } as unknown as D1Database;
      const summary = await getSummary({ d1: counting, now: () => Date.parse(NOW_SUMMARY) }, { id: user.id, timezone: "UTC" }, 12);
      return { rows, summary };
    };
  }

  it("reads as many rows at 480 workouts as at 120: the window's weeks and templates, the PRs, five sessions — never the sets", async () => {
    const readAt = await summaryReader();
    const small = await readAt(120);
    const large = await readAt(480);
    // The same twelve weeks of the same training: the same answer but for the all-time PRs' dates.
    expect(large.summary.weeks).toEqual(small.summary.weeks);
    // Monday 7 September to Thursday 26 November: 81 daily workouts of 6 sets (this week's Friday has none yet).
    expect(large.summary.totals).toMatchObject({ workouts: 81, sets: 81 * 6 });
    expect(large.rows).toBe(small.rows);
    // 12 weeks × 3 templates of rollups, 12 PR rows, a handful of sessions and readings: far below one set a workout.
    expect(large.rows).toBeLessThan(200);
  });
});
