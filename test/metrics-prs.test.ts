import { describe, expect, it } from "vitest";
import { createUser, useTestContext } from "./helpers";
import { getAt, remove, store, template, uniqueId, workout, type ExerciseSpec, type Pr, type SetSpec } from "./metrics-fixtures";

const NOW = "2026-06-10T12:00:00Z";

type Brief = Pick<Pr, "kind" | "value" | "weight_kg" | "reps" | "workout_id">;
const brief = (prs: Pr[], templateId: string): Brief[] =>
  prs.filter((p) => p.exercise_template_id === templateId).map(({ kind, value, weight_kg, reps, workout_id }) => ({ kind, value, weight_kg, reps, workout_id }));

describe("GET /api/v1/hevy/prs", () => {
  const t = useTestContext();

  it("follows edits and deletions: deleting the workout that held a PR moves it to the next best set", async () => {
    const user = await createUser(t);
    const DL = uniqueId("DL");
    await template("", DL, "Deadlift (Barbell)", "lower_back", ["glutes", "hamstrings"]);
    const dl = (sets: Array<[number, number]>): ExerciseSpec => ({
      template: DL, title: "Deadlift (Barbell)", sets: sets.map(([kg, reps]): SetSpec => ["normal", kg, reps]),
    });
    const a = workout("a", "2026-06-01T08:00:00Z", 60, [
      { template: DL, title: "Deadlift (Barbell)", sets: [["warmup", 60, 8], ["normal", 150, 5]] },
      dl([[120, 5], [170, 2]]), // the same exercise again, second in the workout
    ]);
    const b = workout("b", "2026-06-03T08:00:00Z", 60, [dl([[180, 1], [160, 3]])]);
    const c = workout("c", "2026-06-05T08:00:00Z", 60, [dl([[190, 2]])]);
    await store(user.id, [a, b, c]);
    const prs = async () => brief((await getAt<{ data: Pr[] }>(t, user, "/api/v1/hevy/prs", NOW)).data, DL);

    // Non-warm-up sets: a 150×5, 120×5, 170×2; b 180×1, 160×3; c 190×2
    // e1RM: 175, 140, 181.33; 180, 176; 202.67.  Set volume: 750, 600, 340; 180, 480; 380.
    expect(await prs()).toEqual([
      { kind: "heaviest_weight", value: 190, weight_kg: 190, reps: 2, workout_id: "c" },
      { kind: "best_e1rm", value: 190 * (1 + 2 / 30), weight_kg: 190, reps: 2, workout_id: "c" },
      // 150×5 (exercise 0, set 1) and 120×5 (exercise 1, set 0) tie: the lower exercise index wins
      { kind: "most_reps", value: 5, weight_kg: 150, reps: 5, workout_id: "a" },
      { kind: "best_set_volume", value: 750, weight_kg: 150, reps: 5, workout_id: "a" },
    ]);

    await remove(user.id, "c", Date.parse("2026-06-06T00:00:00Z"));
    // Without c: heaviest 180 (b); e1RM 170·(1+2/30) = 181.33 (a) beats 180 and 176
    expect(await prs()).toEqual([
      { kind: "heaviest_weight", value: 180, weight_kg: 180, reps: 1, workout_id: "b" },
      { kind: "best_e1rm", value: 170 * (1 + 2 / 30), weight_kg: 170, reps: 2, workout_id: "a" },
      { kind: "most_reps", value: 5, weight_kg: 150, reps: 5, workout_id: "a" },
      { kind: "best_set_volume", value: 750, weight_kg: 150, reps: 5, workout_id: "a" },
    ]);

    await remove(user.id, "a", Date.parse("2026-06-06T00:00:00Z"));
    // Only b: 180×1 (e1RM 180, volume 180), 160×3 (e1RM 176, volume 480)
    expect(await prs()).toEqual([
      { kind: "heaviest_weight", value: 180, weight_kg: 180, reps: 1, workout_id: "b" },
      { kind: "best_e1rm", value: 180, weight_kg: 180, reps: 1, workout_id: "b" },
      { kind: "most_reps", value: 3, weight_kg: 160, reps: 3, workout_id: "b" },
      { kind: "best_set_volume", value: 480, weight_kg: 160, reps: 3, workout_id: "b" },
    ]);

    // An edit in Hevy (newer updated_at): 160×3 becomes 160×4 → e1RM 160·(1+4/30) = 181.33, 4 reps, 640 kg
    await store(user.id, [workout("b", "2026-06-03T08:00:00Z", 60, [dl([[180, 1], [160, 4]])], Date.parse("2026-06-08T00:00:00Z"))]);
    expect(await prs()).toEqual([
      { kind: "heaviest_weight", value: 180, weight_kg: 180, reps: 1, workout_id: "b" },
      { kind: "best_e1rm", value: 160 * (1 + 4 / 30), weight_kg: 160, reps: 4, workout_id: "b" },
      { kind: "most_reps", value: 4, weight_kg: 160, reps: 4, workout_id: "b" },
      { kind: "best_set_volume", value: 640, weight_kg: 160, reps: 4, workout_id: "b" },
    ]);

    await remove(user.id, "b", Date.parse("2026-06-09T00:00:00Z"));
    expect(await prs()).toEqual([]);
  });

  it("applies each kind's rule: e1RM only for 1–12 reps and the weight itself for one rep; carries without reps; reps without weight", async () => {
    const user = await createUser(t);
    const ROW = uniqueId("ROW");
    const CARRY = uniqueId("CARRY");
    await template("", ROW, "Bent Over Row (Barbell)", "upper_back", []);
    await template("", CARRY, "Farmers Walk", "forearms", []);
    await store(user.id, [
      workout("r", "2026-06-02T17:00:00Z", 45, [
        // 69×1 → e1RM 69 (not 69·31/30 = 71.3); 50×12 → 50·(1+12/30) = 70; 40×20 → past 12 reps, no e1RM
        { template: ROW, title: "Bent Over Row (Barbell)", sets: [["normal", 69, 1], ["normal", 50, 12], ["dropset", 40, 20]] },
        // 40 kg for a distance (no reps): heaviest only; 0 kg × 25 (an empty bar of zero): most reps only
        { template: CARRY, title: "Farmers Walk", sets: [["normal", 40, null], ["normal", 0, 25], ["normal", null, null]] },
      ]),
    ]);
    const { data } = await getAt<{ data: Pr[] }>(t, user, "/api/v1/hevy/prs", NOW);
    expect(brief(data, ROW)).toEqual([
      { kind: "heaviest_weight", value: 69, weight_kg: 69, reps: 1, workout_id: "r" },
      { kind: "best_e1rm", value: 50 * (1 + 12 / 30), weight_kg: 50, reps: 12, workout_id: "r" },
      { kind: "most_reps", value: 20, weight_kg: 40, reps: 20, workout_id: "r" },
      { kind: "best_set_volume", value: 800, weight_kg: 40, reps: 20, workout_id: "r" }, // 40·20 = 800 > 50·12 = 600 > 69
    ]);
    expect(brief(data, CARRY)).toEqual([
      { kind: "heaviest_weight", value: 40, weight_kg: 40, reps: null, workout_id: "r" },
      { kind: "most_reps", value: 25, weight_kg: 0, reps: 25, workout_id: "r" },
    ]);
    expect(data.map((p) => p.exercise_title)).toEqual([
      ...Array(4).fill("Bent Over Row (Barbell)"), ...Array(2).fill("Farmers Walk"),
    ]);
    expect(data.every((p) => p.achieved_at === "2026-06-02T17:00:00Z")).toBe(true);
  });
});
