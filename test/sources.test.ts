import { describe, expect, it } from "vitest";
import { createUser, dbOf, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { item, putSource } from "./unified-helpers";

const T0 = Date.UTC(2026, 10, 20, 17, 0, 0);

const storedWorkouts = async (userId: string) =>
  (
    await (await dbOf(userId)).prepare(
      `SELECT source, external_id, activity_type, start_time, end_time, title, calories_kcal, avg_hr_bpm, max_hr_bpm
       FROM source_workouts WHERE user_id = ? ORDER BY source, external_id`,
    )
      .bind(userId)
      .all()
  ).results;

const storedRecovery = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT source, date, score FROM daily_recovery WHERE user_id = ? ORDER BY source, date").bind(userId).all()).results;

const put = (t: TestContext, user: TestUser, path: string, json: unknown) => t.request(path, { method: "PUT", token: user.token, json });

describe("PUT /api/v1/sources/{source}/workouts", () => {
  const t = useTestContext();

  it("stores every source's workouts as given, instants from any offset", async () => {
    const user = await createUser(t);
    await putSource(t, user, "apple_health", [
      { external_id: "AH-1", activity_type: "traditional_strength_training", start_time: "2026-11-20T18:02:00+01:00",
        end_time: "2026-11-20T19:04:30.250+01:00", title: "Strength", calories_kcal: 410.5, avg_hr_bpm: 118, max_hr_bpm: 161 },
    ]);
    for (const source of ["whoop", "oura", "strava"]) {
      await putSource(t, user, source, [{ external_id: `${source}-1`, activity_type: "running", start_time: "2026-11-21T07:00:00Z", end_time: "2026-11-21T07:30:00Z" }]);
    }
    const minimal = { activity_type: "running", start_time: Date.UTC(2026, 10, 21, 7), end_time: Date.UTC(2026, 10, 21, 7, 30), title: null, calories_kcal: null, avg_hr_bpm: null, max_hr_bpm: null };
    expect(await storedWorkouts(user.id)).toEqual([
      { source: "apple_health", external_id: "AH-1", activity_type: "traditional_strength_training", start_time: Date.UTC(2026, 10, 20, 17, 2),
        end_time: Date.UTC(2026, 10, 20, 18, 4, 30, 250), title: "Strength", calories_kcal: 410.5, avg_hr_bpm: 118, max_hr_bpm: 161 },
      { source: "oura", external_id: "oura-1", ...minimal },
      { source: "strava", external_id: "strava-1", ...minimal },
      { source: "whoop", external_id: "whoop-1", ...minimal },
    ]);
  });

  it("is idempotent on (source, external_id): a repeat changes nothing, an edit replaces every field", async () => {
    const user = await createUser(t);
    const batch = [item("a", T0, 60, { title: "Push", calories_kcal: 300 }), item("b", T0 + 86_400_000, 45)];
    await putSource(t, user, "apple_health", batch);
    const first = await storedWorkouts(user.id);
    await putSource(t, user, "apple_health", batch);
    expect(await storedWorkouts(user.id)).toEqual(first);
    // The same external_id under another source is another workout.
    await putSource(t, user, "strava", [item("a", T0, 30, { activity_type: "cycling" })]);
    await putSource(t, user, "apple_health", [item("a", T0 + 60_000, 50, { activity_type: "walking" })]);
    expect(await storedWorkouts(user.id)).toEqual([
      { ...first[0], activity_type: "walking", start_time: T0 + 60_000, end_time: T0 + 60_000 + 50 * 60_000, title: null, calories_kcal: null },
      first[1],
      { source: "strava", external_id: "a", activity_type: "cycling", start_time: T0, end_time: T0 + 30 * 60_000, title: null, calories_kcal: null, avg_hr_bpm: null, max_hr_bpm: null },
    ]);
  });

  it("takes 500 items, refuses 501 with 413 batch_too_large and writes nothing", async () => {
    const user = await createUser(t);
    const items = Array.from({ length: 501 }, (_, i) => item(`x${i}`, T0 + i * 3_600_000, 30));
    await expectProblem(await put(t, user, "/api/v1/sources/apple_health/workouts", { items }), 413, "batch_too_large");
    expect(await storedWorkouts(user.id)).toEqual([]);
    await putSource(t, user, "apple_health", items.slice(0, 500));
    expect(await storedWorkouts(user.id)).toHaveLength(500);
  });

  it("answers a bad item with 400 naming its index, and writes nothing of the batch", async () => {
    const user = await createUser(t);
    const good = (i: number) => item(`g${i}`, T0 + i * 3_600_000, 30);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good(3), start_time: "2026-11-20T17:02:00" }, "items.3.start_time"], // no zone
      [{ ...good(3), start_time: "2026-11-20" }, "items.3.start_time"],
      [{ ...good(3), end_time: "2026-02-30T10:00:00Z" }, "items.3.end_time"],
      [{ ...good(3), end_time: new Date(T0 + 3 * 3_600_000 - 1000).toISOString() }, "items.3.end_time"], // before start
      [{ ...good(3), external_id: "" }, "items.3.external_id"],
      [{ ...good(3), external_id: "a\u0000b" }, "items.3.external_id"],
      [{ ...good(3), external_id: "g1" }, "items.3.external_id"], // repeats items.1
      [{ ...good(3), activity_type: undefined }, "items.3.activity_type"],
      [{ ...good(3), calories_kcal: -5 }, "items.3.calories_kcal"],
      [{ ...good(3), avg_hr_bpm: "118" }, "items.3.avg_hr_bpm"],
      [{ ...good(3), avg_hr_bpm: 150, max_hr_bpm: 140 }, "items.3.max_hr_bpm"],
      [{ ...good(3), heart_rate: 120 }, "items.3"], // unknown field
    ];
    for (const [bad, path] of cases) {
      const items = [good(0), good(1), good(2), bad, good(4)];
      const problem = await expectProblem(await put(t, user, "/api/v1/sources/apple_health/workouts", { items }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path), path).toContain(path);
    }
    await expectProblem(await put(t, user, "/api/v1/sources/apple_health/workouts", { items: [], extra: 1 }), 400, "validation_failed");
    await expectProblem(await put(t, user, "/api/v1/sources/apple_health/workouts", [good(0)]), 400, "validation_failed");
    expect(await storedWorkouts(user.id)).toEqual([]);
  });

  it("answers an unknown source 404, a wrong media type 415, broken JSON 400, no token 401", async () => {
    const user = await createUser(t);
    const body = { items: [item("a", T0, 30)] };
    await expectProblem(await put(t, user, "/api/v1/sources/garmin/workouts", body), 404, "not_found");
    await expectProblem(await put(t, user, "/api/v1/sources/hevy/workouts", body), 404, "not_found");
    const text = await t.request("/api/v1/sources/whoop/workouts", { method: "PUT", token: user.token, body: JSON.stringify(body), headers: { "content-type": "text/plain" } });
    await expectProblem(text, 415, "unsupported_media_type");
    const broken = await t.request("/api/v1/sources/whoop/workouts", { method: "PUT", token: user.token, body: "{\"items\": [", headers: { "content-type": "application/json" } });
    await expectProblem(broken, 400, "invalid_json");
    await expectProblem(await t.request("/api/v1/sources/whoop/workouts", { method: "PUT", json: body }), 401, "unauthorized");
    const get = await t.request("/api/v1/sources/whoop/workouts", { token: user.token });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("PUT");
    expect(await storedWorkouts(user.id)).toEqual([]);
  });

  it("keeps users apart: same external ids, separate rows; one user cannot delete another's", async () => {
    const alice = await createUser(t);
    const bob = await createUser(t);
    await putSource(t, alice, "oura", [item("same", T0, 30, { title: "Alice" })]);
    await putSource(t, bob, "oura", [item("same", T0, 40, { title: "Bob" })]);
    const del = (u: TestUser) => t.request("/api/v1/sources/oura/workouts/same", { method: "DELETE", token: u.token });
    expect((await del(bob)).status).toBe(204); // his own
    await expectProblem(await del(bob), 404, "not_found"); // Alice's stays out of his reach
    expect((await storedWorkouts(alice.id)).map((r) => r.title)).toEqual(["Alice"]);
    expect(await storedWorkouts(bob.id)).toEqual([]);
  });
});

describe("DELETE /api/v1/sources/{source}/workouts/{external_id}", () => {
  const t = useTestContext();

  it("deletes one workout (204), then 404; unknown source 404", async () => {
    const user = await createUser(t);
    await putSource(t, user, "strava", [item("ride/1 é", T0, 90, { activity_type: "cycling" }), item("ride-2", T0 + 86_400_000, 60)]);
    const path = `/api/v1/sources/strava/workouts/${encodeURIComponent("ride/1 é")}`;
    expect((await t.request(path, { method: "DELETE", token: user.token })).status).toBe(204);
    await expectProblem(await t.request(path, { method: "DELETE", token: user.token }), 404, "not_found");
    await expectProblem(await t.request("/api/v1/sources/apple_health/workouts/ride-2", { method: "DELETE", token: user.token }), 404, "not_found");
    await expectProblem(await t.request("/api/v1/sources/polar/workouts/ride-2", { method: "DELETE", token: user.token }), 404, "not_found");
    expect((await storedWorkouts(user.id)).map((r) => r.external_id)).toEqual(["ride-2"]);
  });
});

describe("PUT /api/v1/recovery/{whoop|oura}", () => {
  const t = useTestContext();

  it("upserts daily scores per source and date, idempotently", async () => {
    const user = await createUser(t);
    const whoop = { items: [{ date: "2026-11-20", score: 64 }, { date: "2026-11-21", score: 0 }, { date: "2024-02-29", score: 100 }] };
    for (let i = 0; i < 2; i++) {
      const res = await put(t, user, "/api/v1/recovery/whoop", whoop);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ upserted: 3 });
    }
    const oura = await put(t, user, "/api/v1/recovery/oura", { items: [{ date: "2026-11-20", score: 81.5 }] });
    expect(await oura.json()).toEqual({ upserted: 1 });
    await put(t, user, "/api/v1/recovery/whoop", { items: [{ date: "2026-11-20", score: 70 }] });
    expect(await storedRecovery(user.id)).toEqual([
      { source: "oura", date: "2026-11-20", score: 81.5 },
      { source: "whoop", date: "2024-02-29", score: 100 },
      { source: "whoop", date: "2026-11-20", score: 70 },
      { source: "whoop", date: "2026-11-21", score: 0 },
    ]);
  });

  it("refuses bad dates and scores with 400 naming the index, 501 items with 413, other sources with 404; writes nothing", async () => {
    const user = await createUser(t);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ date: "2026-02-30", score: 50 }, "items.2.date"],
      [{ date: "2025-02-29", score: 50 }, "items.2.date"],
      [{ date: "2026-1-05", score: 50 }, "items.2.date"],
      [{ date: "2026-11-20T00:00:00Z", score: 50 }, "items.2.date"],
      [{ date: "2026-11-19", score: 100.5 }, "items.2.score"],
      [{ date: "2026-11-19", score: -1 }, "items.2.score"],
      [{ date: "2026-11-19", score: "80" }, "items.2.score"],
      [{ date: "2026-11-19" }, "items.2.score"],
      [{ date: "2026-11-01", score: 50 }, "items.2.date"], // repeats items.0
      [{ date: "2026-11-19", score: 50, source: "whoop" }, "items.2"],
    ];
    for (const [bad, path] of cases) {
      const items = [{ date: "2026-11-01", score: 50 }, { date: "2026-11-02", score: 60 }, bad];
      const problem = await expectProblem(await put(t, user, "/api/v1/recovery/oura", { items }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path), path).toContain(path);
    }
    const many = Array.from({ length: 501 }, (_, i) => ({ date: new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10), score: 50 }));
    await expectProblem(await put(t, user, "/api/v1/recovery/whoop", { items: many }), 413, "batch_too_large");
    await expectProblem(await put(t, user, "/api/v1/recovery/apple_health", { items: [] }), 404, "not_found");
    await expectProblem(await put(t, user, "/api/v1/recovery", { items: [] }), 404, "not_found");
    expect(await storedRecovery(user.id)).toEqual([]);
    const ok = await put(t, user, "/api/v1/recovery/whoop", { items: many.slice(0, 500) });
    expect(await ok.json()).toEqual({ upserted: 500 });
  });
});
