import type { Workout } from "../src/hevy/types";

// From-scratch recomputations of the metrics, written for the tests only, in plain code and
// independently of the SQL under test (test/metrics-maintained.test.ts, test/migrations.test.ts).

const KINDS = ["heaviest_weight", "best_e1rm", "most_reps", "best_set_volume"] as const;

/** What the store keeps of one workout id: Hevy's version, a tombstone, and the live copy. */
export interface Row { version: number; deletedAt: number | null; workout: Workout | null }

/** SPEC §10's PR rules over the live workouts, the plain way: every eligible set, best value, earliest set. */
export function expectedPrs(rows: Map<string, Row>) {
  type Cand = { tid: string; kind: number; value: number; wt: number | null; reps: number | null; st: number; ei: number; si: number; w: string };
  const best = new Map<string, Cand>();
  const earlier = (a: Cand, b: Cand) =>
    a.st !== b.st ? a.st < b.st : a.ei !== b.ei ? a.ei < b.ei : a.si !== b.si ? a.si < b.si : a.w < b.w;
  for (const { workout } of rows.values()) {
    if (!workout) continue;
    for (const e of workout.exercises) {
      if (e.exerciseTemplateId === null) continue;
      for (const s of e.sets) {
        if (s.type === "warmup") continue;
        const wt = s.weightKg ?? 0;
        const reps = s.reps ?? 0;
        const values: Array<number | null> = [
          wt > 0 ? wt : null,
          wt > 0 && reps >= 1 && reps <= 12 ? (reps === 1 ? wt : wt * (1 + reps / 30)) : null,
          reps >= 1 ? reps : null,
          wt > 0 && reps >= 1 ? wt * reps : null,
        ];
        values.forEach((value, kind) => {
          if (value === null) return;
          const c: Cand = { tid: e.exerciseTemplateId!, kind, value, wt: s.weightKg, reps: s.reps, st: workout.startTime, ei: e.index, si: s.index, w: workout.id };
          const key = `${c.tid}|${kind}`;
          const held = best.get(key);
          if (!held || c.value > held.value || (c.value === held.value && earlier(c, held))) best.set(key, c);
        });
      }
    }
  }
  return [...best.values()]
    .map((c) => ({
      exercise_template_id: c.tid, kind: KINDS[c.kind], value: c.value, weight_kg: c.wt, reps: c.reps,
      workout_id: c.w, achieved_at: new Date(c.st).toISOString().replace(".000Z", "Z"),
    }))
    .sort((a, b) => (a.exercise_template_id + a.kind < b.exercise_template_id + b.kind ? -1 : 1));
}


// ── Weeks, weekly trend and muscle groups (SPEC §7, §10), from the live workouts alone ──────────
//
// Local dates come from Intl directly (the date a wall clock in the zone shows at an instant);
// a local day starts at the first instant showing its date, found by bisection, so a skipped
// midnight (a DST change at 00:00) starts the day when the clock reaches it. Civil-date
// arithmetic is day numbers on the UTC calendar. Nothing here is shared with src/lib/zoned-time.ts.

const DAY_MS = 86_400_000;
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** "YYYY-MM-DD" as a wall clock in `zone` reads at the instant `ms`. */
export function localDateIn(ms: number, zone: string): string {
  let f = dateFormats.get(zone);
  if (!f) dateFormats.set(zone, (f = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" })));
  const parts = f.formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get("year").padStart(4, "0")}-${get("month").padStart(2, "0")}-${get("day").padStart(2, "0")}`;
}

const dayNumber = (date: string) => {
  const [y, m, d] = date.split("-").map(Number);
  return Date.UTC(y!, m! - 1, d!) / DAY_MS;
};
const dateOfDay = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** The civil date `days` after `date`. */
export function shiftDate(date: string, days: number): string {
  return dateOfDay(dayNumber(date) + days);
}

/** The Monday on or before a civil date. */
export function mondayOnOrBefore(date: string): string {
  const n = dayNumber(date);
  const weekday = (new Date(n * DAY_MS).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return dateOfDay(n - weekday);
}

const dayStarts = new Map<string, number>();

/** The first instant whose local date in `zone` is `date` (local midnight, or the end of a skipped one). */
export function firstInstantOf(date: string, zone: string): number {
  const key = `${zone}|${date}`;
  const held = dayStarts.get(key);
  if (held !== undefined) return held;
  // UTC midnight of the date ± 16 h brackets it whatever the offset (all are within ±14 h).
  let before = dayNumber(date) * DAY_MS - 16 * 3_600_000;
  let atOrAfter = dayNumber(date) * DAY_MS + 16 * 3_600_000;
  if (!(localDateIn(before, zone) < date && localDateIn(atOrAfter, zone) >= date)) throw new Error(`no bracket for ${date} in ${zone}`);
  while (atOrAfter - before > 1) {
    const mid = Math.floor((before + atOrAfter) / 2);
    if (localDateIn(mid, zone) < date) before = mid;
    else atOrAfter = mid;
  }
  dayStarts.set(key, atOrAfter);
  return atOrAfter;
}

export interface OracleWeek { week_start: string; from_ms: number; to_ms: number }

/** The Monday-start week with Monday `monday` in `zone`: local Monday 00:00 to the next local Monday 00:00. */
export function weekOfMonday(monday: string, zone: string): OracleWeek {
  return { week_start: monday, from_ms: firstInstantOf(monday, zone), to_ms: firstInstantOf(shiftDate(monday, 7), zone) };
}

/** The week of an instant's local date in `zone`. */
export function weekAt(ms: number, zone: string): OracleWeek {
  const week = weekOfMonday(mondayOnOrBefore(localDateIn(ms, zone)), zone);
  // The bounds must hold the instant, or the bisection above met a zone whose dates go backwards.
  if (!(week.from_ms <= ms && ms < week.to_ms)) throw new Error(`oracle: ${ms} outside its week ${JSON.stringify(week)} in ${zone}`);
  return week;
}

const live = (rows: Map<string, Row>): Workout[] =>
  [...rows.values()].flatMap((r) => (r.workout ? [r.workout] : [])).sort((a, b) => a.startTime - b.startTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** One workout's numbers: every logged set, and Σ weight × reps of the non-warm-up sets that have both, in the order Hevy lists them. */
function workoutNumbers(w: Workout): { sets: number; volume: number } {
  let sets = 0;
  let volume = 0;
  for (const e of w.exercises) {
    for (const s of e.sets) {
      sets += 1;
      if (s.type !== "warmup" && s.weightKg !== null && s.reps !== null) volume += s.weightKg * s.reps;
    }
  }
  return { sets, volume };
}

export interface WeekNumbers { week_start: string; workouts: number; sets: number; volume_kg: number }

/** Workouts, sets and volume per local week of `zone` that holds a live workout; volume summed per workout, then over the week's workouts by (start, id). */
function weekNumbers(rows: Map<string, Row>, zone: string): Map<string, WeekNumbers> {
  const weeks = new Map<string, WeekNumbers>();
  for (const w of live(rows)) {
    const week = weekAt(w.startTime, zone).week_start;
    const n = weeks.get(week) ?? { week_start: week, workouts: 0, sets: 0, volume_kg: 0 };
    const { sets, volume } = workoutNumbers(w);
    n.workouts += 1;
    n.sets += sets;
    n.volume_kg += volume;
    weeks.set(week, n);
  }
  return weeks;
}

/** What hevy_weeks must hold for every week with a live workout, by week_start. */
export function expectedWeekRows(rows: Map<string, Row>, zone: string) {
  return [...weekNumbers(rows, zone).values()]
    .map((n) => ({ ...weekOfMonday(n.week_start, zone), workouts: n.workouts, sets: n.sets, volume_kg: n.volume_kg }))
    .sort((a, b) => (a.week_start < b.week_start ? -1 : 1));
}

/** What hevy_week_templates must hold: per week and template ('' for none), non-warm-up sets and their Σ weight × reps. */
export function expectedWeekTemplateRows(rows: Map<string, Row>, zone: string) {
  const out = new Map<string, { week_start: string; template_id: string; sets: number; volume_kg: number }>();
  for (const w of live(rows)) {
    const week = weekAt(w.startTime, zone).week_start;
    for (const e of w.exercises) {
      for (const s of e.sets) {
        if (s.type === "warmup") continue;
        const tid = e.exerciseTemplateId ?? "";
        const key = `${week}|${tid}`;
        const n = out.get(key) ?? { week_start: week, template_id: tid, sets: 0, volume_kg: 0 };
        n.sets += 1;
        if (s.weightKg !== null && s.reps !== null) n.volume_kg += s.weightKg * s.reps;
        out.set(key, n);
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.week_start + "|" + a.template_id < b.week_start + "|" + b.template_id ? -1 : 1));
}

/** GET /hevy/trends?weeks=count at `now`: the `count` weeks ending with the one holding now, oldest first, zeros included. */
export function expectedTrend(rows: Map<string, Row>, zone: string, now: number, count: number) {
  const byWeek = weekNumbers(rows, zone);
  const current = mondayOnOrBefore(localDateIn(now, zone));
  const weeks = Array.from({ length: count }, (_, i) => {
    const monday = shiftDate(current, -7 * (count - 1 - i));
    const n = byWeek.get(monday);
    return { week_start: monday, workouts: n?.workouts ?? 0, sets: n?.sets ?? 0, volume_kg: n?.volume_kg ?? 0 };
  });
  const totals = { workouts: 0, sets: 0, volume_kg: 0 };
  for (const w of weeks) {
    totals.workouts += w.workouts;
    totals.sets += w.sets;
    totals.volume_kg += w.volume_kg;
  }
  return { weeks, totals };
}

export interface Groups { primary: string; secondary: string[] }

/**
 * GET /hevy/muscle-groups over workouts starting in [from, to): non-warm-up sets, 1 to the
 * template's primary group and 0.5 to each secondary one, volume weighted alike. The user's custom
 * template wins over a built-in with the same id; no template, or an unknown one, counts as `other`.
 */
export function expectedMuscleGroups(
  rows: Map<string, Row>,
  templates: { builtIn: Map<string, Groups>; custom: Map<string, Groups> },
  range: { from?: number; to?: number },
) {
  const out = new Map<string, { muscle_group: string; sets: number; volume_kg: number }>();
  const add = (group: string, sets: number, volume: number) => {
    const n = out.get(group) ?? { muscle_group: group, sets: 0, volume_kg: 0 };
    n.sets += sets;
    n.volume_kg += volume;
    out.set(group, n);
  };
  for (const w of live(rows)) {
    if ((range.from !== undefined && w.startTime < range.from) || (range.to !== undefined && w.startTime >= range.to)) continue;
    for (const e of w.exercises) {
      const tid = e.exerciseTemplateId;
      const groups = tid === null ? undefined : (templates.custom.get(tid) ?? templates.builtIn.get(tid));
      for (const s of e.sets) {
        if (s.type === "warmup") continue;
        const volume = s.weightKg !== null && s.reps !== null ? s.weightKg * s.reps : 0;
        add(groups?.primary ?? "other", 1, volume);
        for (const g of groups?.secondary ?? []) add(g, 0.5, volume * 0.5);
      }
    }
  }
  return [...out.values()].sort((a, b) =>
    a.sets !== b.sets ? b.sets - a.sets : a.volume_kg !== b.volume_kg ? b.volume_kg - a.volume_kg : a.muscle_group < b.muscle_group ? -1 : 1);
}
