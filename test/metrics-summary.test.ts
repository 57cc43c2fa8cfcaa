import { describe, expect, it } from "vitest";
import { createUser, useTestContext, type TestContext } from "./helpers";
import { getAt, recovery, remove, store, template, uniqueId, workout, type Pr, type SummaryBody } from "./metrics-fixtures";

// One hand-written history of a user in Europe/Berlin around the switch to summer
// time (Sunday 2026-03-29, 02:00 CET → 03:00 CEST). Every expected number below is
// worked out by hand from it; the comments show the arithmetic.
//
// Local Monday 00:00 in UTC: 03-02 → 03-01T23:00Z, 03-09 → 03-08T23:00Z,
// 03-16 → 03-15T23:00Z, 03-23 → 03-22T23:00Z, 03-30 → 03-29T22:00Z (CEST),
// 04-06 → 04-05T22:00Z. "Now" is Wednesday 2026-04-01 12:00 CEST.
const NOW = "2026-04-01T10:00:00Z";

async function berlinHistory(t: TestContext) {
  const user = await createUser(t, "Europe/Berlin");
  const other = await createUser(t, "Europe/Berlin");
  const BENCH = uniqueId("BENCH");
  const SQUAT = uniqueId("SQUAT");
  const PULLUP = uniqueId("PULLUP");
  const CURL = uniqueId("CURL");
  const GHOST = uniqueId("GHOST"); // no template row for the user: counts under "other"
  await template("", BENCH, "Bench Press (Barbell)", "chest", ["triceps", "shoulders"]);
  await template("", SQUAT, "Squat (Barbell)", "quadriceps", ["glutes", "hamstrings"]);
  await template("", PULLUP, "Pull Up", "lats", ["biceps"]);
  await template("", CURL, "Curl (built-in)", "shoulders", []); // the user's custom template of the same id wins
  await template(user.id, CURL, "My Curl", "biceps", ["forearms"]);
  await template(other.id, GHOST, "Someone else's", "neck", []); // another user's custom template never applies

  const w = {
    // Sun 03-01 11:00 CET: week of 02-23, before a 5-week window. Sets 4; volume 100·5 + 100·5 + 160·2 = 1320.
    w1: workout("w1", "2026-03-01T10:00:00Z", 60, [
      { template: BENCH, title: "Bench Press (Barbell)", sets: [["warmup", 60, 10], ["normal", 100, 5], ["normal", 100, 5]] },
      { template: SQUAT, title: "Squat (Barbell)", sets: [["normal", 160, 2]] },
    ]),
    // Sun 03-15 23:30 CET: week of 03-09 (at a fixed +02:00 it would wrongly be Monday). Sets 3; volume 140·3 + 150·1 = 570.
    w2: workout("w2", "2026-03-15T22:30:00Z", 45, [
      { template: SQUAT, title: "Squat (Barbell)", sets: [["warmup", 60, 5], ["normal", 140, 3], ["failure", 150, 1]] },
    ]),
    // Mon 03-16 00:30 CET (Sunday in UTC): week of 03-16. Sets 4; volume 102.5·1 + 10·8 = 182.5 (the 110 kg warm-up and the bodyweight set add nothing).
    w3: workout("w3", "2026-03-15T23:30:00Z", 60, [
      { template: BENCH, title: "Bench Press (Barbell)", sets: [["warmup", 110, 1], ["normal", 102.5, 1]] },
      { template: PULLUP, title: "Pull Up", sets: [["normal", null, 12], ["normal", 10, 8]] },
    ]),
    // Sun 03-22 23:30 CET: week of 03-16. Sets 3; volume 15·10 + 20·10 + 50·10 = 850.
    w4: workout("w4", "2026-03-22T22:30:00Z", 40, [
      { template: CURL, title: "My Curl", sets: [["normal", 15, 10], ["normal", 20, 10]] },
      { template: GHOST, title: "Mystery Machine", sets: [["normal", 50, 10]] },
    ]),
    // Mon 03-23 00:10 CET (Sunday in UTC): week of 03-23. Sets 2; volume 95·8 + 90·13 = 760 + 1170 = 1930.
    w5: workout("w5", "2026-03-22T23:10:00Z", 30, [
      { template: BENCH, title: "Bench Press (Barbell)", sets: [["normal", 95, 8], ["normal", 90, 13]] },
    ]),
    // Sun 03-29 23:30 CEST (DST day): week of 03-23. Sets 2; volume 140·3 = 420.
    w6: workout("w6", "2026-03-29T21:30:00Z", 20, [
      { template: SQUAT, title: "Squat (Barbell)", sets: [["warmup", 100, 5], ["normal", 140, 3]] },
    ]),
    // Mon 03-30 00:30 CEST (at a fixed +01:00 it would wrongly be Sunday): week of 03-30. Sets 1; volume 5·20 = 100.
    w7: workout("w7", "2026-03-29T22:30:00Z", 50, [
      { template: null, title: "Band Pull-Apart", sets: [["normal", 5, 20]] },
    ]),
    // Deleted: must count nowhere (its 200 kg bench would be every bench PR).
    w8: workout("w8", "2026-03-31T08:00:00Z", 30, [
      { template: BENCH, title: "Bench Press (Barbell)", sets: [["normal", 200, 1]] },
    ]),
  };
  await store(user.id, Object.values(w));
  await remove(user.id, "w8", Date.parse("2026-03-31T09:00:00Z"));
  // The other user's workout in the same weeks must not show up.
  await store(other.id, [workout("o1", "2026-03-24T10:00:00Z", 60, [{ template: BENCH, title: "Bench Press (Barbell)", sets: [["normal", 300, 1]] }])]);
  return { user, other, w, ids: { BENCH, SQUAT, PULLUP, CURL, GHOST } };
}

const pr = (p: Omit<Pr, "achieved_at" | "workout_id"> & { in: { id: string; startTime: number } }): Pr => {
  const { in: w, ...rest } = p;
  return { ...rest, workout_id: w.id, achieved_at: new Date(w.startTime).toISOString().replace(".000Z", "Z") };
};

describe("GET /api/v1/hevy/summary", () => {
  const t = useTestContext();

  it("answers the SPEC §7 shape, computed by hand from a Europe/Berlin history across the DST change", async () => {
    const { user, w, ids } = await berlinHistory(t);
    const body = await getAt<SummaryBody>(t, user, "/api/v1/hevy/summary?weeks=5", NOW);

    expect(Object.keys(body).sort()).toEqual(
      ["latest_session_recovery", "muscle_groups", "prs", "recent_prs", "recent_sessions", "totals", "weeks"].sort(),
    );
    expect(body.weeks).toEqual([
      { week_start: "2026-03-02", workouts: 0, sets: 0, volume_kg: 0 },
      { week_start: "2026-03-09", workouts: 1, sets: 3, volume_kg: 570 }, // w2
      { week_start: "2026-03-16", workouts: 2, sets: 7, volume_kg: 1032.5 }, // w3 + w4: 4 + 3 sets, 182.5 + 850
      { week_start: "2026-03-23", workouts: 2, sets: 4, volume_kg: 2350 }, // w5 + w6: 2 + 2 sets, 1930 + 420
      { week_start: "2026-03-30", workouts: 1, sets: 1, volume_kg: 100 }, // w7
    ]);
    // 0 + 1 + 2 + 2 + 1 workouts; 0 + 3 + 7 + 4 + 1 sets; 570 + 1032.5 + 2350 + 100 kg
    expect(body.totals).toEqual({ workouts: 6, sets: 15, volume_kg: 4052.5 });

    const { BENCH, SQUAT, PULLUP, CURL, GHOST } = ids;
    const bench = { exercise_template_id: BENCH, exercise_title: "Bench Press (Barbell)" };
    const curl = { exercise_template_id: CURL, exercise_title: "My Curl" };
    const ghost = { exercise_template_id: GHOST, exercise_title: "Mystery Machine" };
    const pullup = { exercise_template_id: PULLUP, exercise_title: "Pull Up" };
    const squat = { exercise_template_id: SQUAT, exercise_title: "Squat (Barbell)" };
    const expectedPrs: Pr[] = [
      // Bench, non-warm-up sets: 100×5, 100×5 (w1), 102.5×1 (w3), 95×8, 90×13 (w5); the 110 kg warm-up and the deleted 200 kg are out.
      pr({ ...bench, kind: "heaviest_weight", value: 102.5, weight_kg: 102.5, reps: 1, in: w.w3 }),
      // e1RM: 100·(1+5/30) = 116.67, 102.5 (one rep), 95·(1+8/30) = 120.33; 90×13 (129) is past 12 reps
      pr({ ...bench, kind: "best_e1rm", value: 95 * (1 + 8 / 30), weight_kg: 95, reps: 8, in: w.w5 }),
      pr({ ...bench, kind: "most_reps", value: 13, weight_kg: 90, reps: 13, in: w.w5 }),
      pr({ ...bench, kind: "best_set_volume", value: 1170, weight_kg: 90, reps: 13, in: w.w5 }), // 90·13 > 95·8 = 760
      // Curl: 15×10 (set 0), 20×10 (set 1): most reps tie at 10 → the earlier set, 15 kg
      pr({ ...curl, kind: "heaviest_weight", value: 20, weight_kg: 20, reps: 10, in: w.w4 }),
      pr({ ...curl, kind: "best_e1rm", value: 20 * (1 + 10 / 30), weight_kg: 20, reps: 10, in: w.w4 }),
      pr({ ...curl, kind: "most_reps", value: 10, weight_kg: 15, reps: 10, in: w.w4 }),
      pr({ ...curl, kind: "best_set_volume", value: 200, weight_kg: 20, reps: 10, in: w.w4 }),
      // Unknown template: still has PRs, titled as logged
      pr({ ...ghost, kind: "heaviest_weight", value: 50, weight_kg: 50, reps: 10, in: w.w4 }),
      pr({ ...ghost, kind: "best_e1rm", value: 50 * (1 + 10 / 30), weight_kg: 50, reps: 10, in: w.w4 }),
      pr({ ...ghost, kind: "most_reps", value: 10, weight_kg: 50, reps: 10, in: w.w4 }),
      pr({ ...ghost, kind: "best_set_volume", value: 500, weight_kg: 50, reps: 10, in: w.w4 }),
      // Pull up: null×12, 10×8 — most reps may have no weight
      pr({ ...pullup, kind: "heaviest_weight", value: 10, weight_kg: 10, reps: 8, in: w.w3 }),
      pr({ ...pullup, kind: "best_e1rm", value: 10 * (1 + 8 / 30), weight_kg: 10, reps: 8, in: w.w3 }),
      pr({ ...pullup, kind: "most_reps", value: 12, weight_kg: null, reps: 12, in: w.w3 }),
      pr({ ...pullup, kind: "best_set_volume", value: 80, weight_kg: 10, reps: 8, in: w.w3 }),
      // Squat: 160×2 (w1), 140×3, 150×1 (w2), 140×3 (w6); warm-ups 60×5 and 100×5 would have had the most reps
      pr({ ...squat, kind: "heaviest_weight", value: 160, weight_kg: 160, reps: 2, in: w.w1 }),
      pr({ ...squat, kind: "best_e1rm", value: 160 * (1 + 2 / 30), weight_kg: 160, reps: 2, in: w.w1 }), // 170.67 > 140·1.1 = 154 > 150
      pr({ ...squat, kind: "most_reps", value: 3, weight_kg: 140, reps: 3, in: w.w2 }), // tie with w6: the earlier workout keeps it
      pr({ ...squat, kind: "best_set_volume", value: 420, weight_kg: 140, reps: 3, in: w.w2 }), // 140·3 = 420 > 320, 150; tie with w6
    ];
    expect(body.prs).toEqual(expectedPrs);

    // Set inside the window [03-01T23:00Z, 04-05T22:00Z): all but the squat PRs of w1; newest first.
    const at = (p: Pr) => p.workout_id;
    expect(body.recent_prs.map(at)).toEqual([
      ...["w5", "w5", "w5"], // bench e1rm, most reps, set volume
      ...["w4", "w4", "w4", "w4", "w4", "w4", "w4", "w4"], // curl ×4, mystery ×4
      ...["w3", "w3", "w3", "w3", "w3"], // bench heaviest, pull up ×4
      ...["w2", "w2"], // squat most reps, set volume
    ]);
    expect(body.recent_prs).toEqual([
      expectedPrs[1], expectedPrs[2], expectedPrs[3],
      ...expectedPrs.slice(4, 12),
      expectedPrs[0], ...expectedPrs.slice(12, 16),
      expectedPrs[18], expectedPrs[19],
    ]);

    // Window, non-warm-up sets; primary 1, each secondary 0.5:
    // w2 squat 2 sets/570 → quads 2/570, glutes 1/285, hamstrings 1/285
    // w3 bench 1/102.5 → chest 1/102.5, triceps .5/51.25, shoulders .5/51.25; pull up 2/80 → lats 2/80, biceps 1/40
    // w4 curl (custom wins) 2/350 → biceps 2/350, forearms 1/175; mystery → other 1/500
    // w5 bench 2/1930 → chest 2/1930, triceps 1/965, shoulders 1/965
    // w6 squat 1/420 → quads 1/420, glutes .5/210, hamstrings .5/210;  w7 no template → other 1/100
    expect(body.muscle_groups).toEqual([
      { muscle_group: "chest", sets: 3, volume_kg: 2032.5 },
      { muscle_group: "quadriceps", sets: 3, volume_kg: 990 },
      { muscle_group: "biceps", sets: 3, volume_kg: 390 },
      { muscle_group: "other", sets: 2, volume_kg: 600 },
      { muscle_group: "lats", sets: 2, volume_kg: 80 },
      { muscle_group: "shoulders", sets: 1.5, volume_kg: 1016.25 },
      { muscle_group: "triceps", sets: 1.5, volume_kg: 1016.25 },
      { muscle_group: "glutes", sets: 1.5, volume_kg: 495 },
      { muscle_group: "hamstrings", sets: 1.5, volume_kg: 495 },
      { muscle_group: "forearms", sets: 1, volume_kg: 175 },
    ]);

    // Five latest, newest first; the deleted w8 is not among them.
    expect(body.recent_sessions).toEqual([
      { id: "w7", title: "Workout w7", start_time: "2026-03-29T22:30:00Z", duration_seconds: 3000, volume_kg: 100, set_count: 1 },
      { id: "w6", title: "Workout w6", start_time: "2026-03-29T21:30:00Z", duration_seconds: 1200, volume_kg: 420, set_count: 2 },
      { id: "w5", title: "Workout w5", start_time: "2026-03-22T23:10:00Z", duration_seconds: 1800, volume_kg: 1930, set_count: 2 },
      { id: "w4", title: "Workout w4", start_time: "2026-03-22T22:30:00Z", duration_seconds: 2400, volume_kg: 850, set_count: 3 },
      { id: "w3", title: "Workout w3", start_time: "2026-03-15T23:30:00Z", duration_seconds: 3600, volume_kg: 182.5, set_count: 4 },
    ]);

    // No readings yet: the latest session is still named.
    expect(body.latest_session_recovery).toEqual({ workout_id: "w7", start_time: "2026-03-29T22:30:00Z", whoop_recovery: null, oura_readiness: null });
  });

  it("sets the latest session against its wake-up day's readings and the 30 days before", async () => {
    const { user } = await berlinHistory(t);
    // w7 ends 03-29T23:20Z = Mon 03-30 01:20 CEST, before 04:00 → wake-up day 03-30; the 30 days before are 02-28 … 03-29.
    await recovery(user.id, "whoop", { "2026-03-30": 64, "2026-03-29": 60, "2026-03-01": 50, "2026-02-28": 56, "2026-02-27": 99, "2026-03-31": 10 });
    await recovery(user.id, "oura", { "2026-03-29": 80 }); // none on the wake-up day
    const body = await getAt<SummaryBody>(t, user, "/api/v1/hevy/summary?weeks=5", NOW);
    expect(body.latest_session_recovery).toEqual({
      workout_id: "w7",
      start_time: "2026-03-29T22:30:00Z",
      whoop_recovery: { date: "2026-03-30", score: 64, avg_30d: 55.3 }, // (60 + 50 + 56) / 3 = 55.33; 02-27 and 03-31 are outside
      oura_readiness: null,
    });
  });

  it("defaults to 12 weeks and keeps empty weeks; a user without workouts gets zeros and nulls", async () => {
    const user = await createUser(t, "Europe/Berlin");
    const body = await getAt<SummaryBody>(t, user, "/api/v1/hevy/summary", NOW);
    // 12 Mondays ending with 03-30: 01-12, 01-19, …, 03-30
    expect(body.weeks.map((w) => w.week_start)).toEqual([
      "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16",
      "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30",
    ]);
    expect(body.weeks.every((w) => w.workouts === 0 && w.sets === 0 && w.volume_kg === 0)).toBe(true);
    expect(body).toMatchObject({
      totals: { workouts: 0, sets: 0, volume_kg: 0 }, prs: [], recent_prs: [], muscle_groups: [], recent_sessions: [],
      latest_session_recovery: null,
    });
  });
});

describe("GET /api/v1/hevy parts", () => {
  const t = useTestContext();

  it("serves each part on its own route, equal to the summary's", async () => {
    const { user, other } = await berlinHistory(t);
    const summary = await getAt<SummaryBody>(t, user, "/api/v1/hevy/summary?weeks=5", NOW);
    expect(await getAt(t, user, "/api/v1/hevy/trends?weeks=5", NOW)).toEqual({ weeks: summary.weeks, totals: summary.totals });
    expect(await getAt(t, user, "/api/v1/hevy/prs", NOW)).toEqual({ data: summary.prs, next_cursor: null });
    // The summary's window, as instants: [03-01T23:00Z, 04-05T22:00Z)
    expect(await getAt(t, user, "/api/v1/hevy/muscle-groups?from=2026-03-01T23:00:00Z&to=2026-04-05T22:00:00Z", NOW)).toEqual({
      data: summary.muscle_groups, next_cursor: null,
    });
    expect(await getAt(t, user, "/api/v1/hevy/sessions/latest/recovery", NOW)).toEqual(summary.latest_session_recovery);

    // The other user sees only their own 300 kg bench (w: 1 set, 300 kg; chest 1 set, 300 kg; triceps/shoulders 0.5 and 150)
    const theirs = await getAt<SummaryBody>(t, other, "/api/v1/hevy/summary?weeks=5", NOW);
    expect(theirs.totals).toEqual({ workouts: 1, sets: 1, volume_kg: 300 });
    expect(theirs.prs.map((p) => [p.kind, p.value])).toEqual([["heaviest_weight", 300], ["best_e1rm", 300], ["most_reps", 1], ["best_set_volume", 300]]);
    expect(theirs.muscle_groups).toEqual([
      { muscle_group: "chest", sets: 1, volume_kg: 300 },
      { muscle_group: "shoulders", sets: 0.5, volume_kg: 150 },
      { muscle_group: "triceps", sets: 0.5, volume_kg: 150 },
    ]);
  });

  it("rolls up muscle groups over any range: from inclusive, to exclusive; no bounds means all history", async () => {
    const { user } = await berlinHistory(t);
    // Only w2 starts in [w2.start, w3.start): squat 2 sets / 570 kg
    const only = await getAt<{ data: unknown[] }>(t, user, "/api/v1/hevy/muscle-groups?from=2026-03-15T22:30:00Z&to=2026-03-15T23:30:00Z", NOW);
    expect(only.data).toEqual([
      { muscle_group: "quadriceps", sets: 2, volume_kg: 570 },
      { muscle_group: "glutes", sets: 1, volume_kg: 285 },
      { muscle_group: "hamstrings", sets: 1, volume_kg: 285 },
    ]);
    // All history adds w1: bench 2/1000 → chest +2/1000, triceps & shoulders +1/500; squat 1/320 → quads +1/320, glutes & hamstrings +.5/160
    const all = await getAt<{ data: Array<{ muscle_group: string; sets: number; volume_kg: number }> }>(t, user, "/api/v1/hevy/muscle-groups", NOW);
    expect(all.data.slice(0, 3)).toEqual([
      { muscle_group: "chest", sets: 5, volume_kg: 3032.5 },
      { muscle_group: "quadriceps", sets: 4, volume_kg: 1310 },
      { muscle_group: "biceps", sets: 3, volume_kg: 390 },
    ]);
    expect(all.data.find((g) => g.muscle_group === "triceps")).toEqual({ muscle_group: "triceps", sets: 2.5, volume_kg: 1516.25 });
    expect(all.data.find((g) => g.muscle_group === "glutes")).toEqual({ muscle_group: "glutes", sets: 2, volume_kg: 655 });
  });
});
