import { describe, expect, it } from "vitest";
import { mondayWeeks, startOfLocalDay } from "../src/lib/zoned-time";
import { createUser, useTestContext } from "./helpers";
import { getAt, recovery, store, workout, type SummaryBody } from "./metrics-fixtures";

const iso = (ms: number) => new Date(ms).toISOString();

describe("local weeks (src/lib/zoned-time.ts)", () => {
  it("starts weeks at local Monday midnight, 167 h across spring-forward and 169 h across fall-back", () => {
    // Now: Wed 2026-04-01 12:00 CEST. Mondays 03-23 (CET, +01:00) and 03-30 (CEST, +02:00); DST began Sun 03-29.
    const berlin = mondayWeeks(Date.parse("2026-04-01T10:00:00Z"), "Europe/Berlin", 2);
    expect(berlin.map((w) => [w.weekStart, iso(w.from), iso(w.to)])).toEqual([
      ["2026-03-23", "2026-03-22T23:00:00.000Z", "2026-03-29T22:00:00.000Z"], // 7·24 − 1 = 167 h
      ["2026-03-30", "2026-03-29T22:00:00.000Z", "2026-04-05T22:00:00.000Z"],
    ]);
    // New York fell back on Sun 11-01 (EDT −04:00 → EST −05:00). Now: Mon 11-02 00:30 EST = 05:30Z.
    const ny = mondayWeeks(Date.parse("2026-11-02T05:30:00Z"), "America/New_York", 2);
    expect(ny.map((w) => [w.weekStart, iso(w.from), iso(w.to)])).toEqual([
      ["2026-10-26", "2026-10-26T04:00:00.000Z", "2026-11-02T05:00:00.000Z"], // 169 h
      ["2026-11-02", "2026-11-02T05:00:00.000Z", "2026-11-09T05:00:00.000Z"],
    ]);
    // 30 minutes earlier it is still Sunday 23:30 in New York (already Monday in UTC): the week of 10-26.
    expect(mondayWeeks(Date.parse("2026-11-02T04:30:00Z"), "America/New_York", 1)[0]!.weekStart).toBe("2026-10-26");
  });

  it("handles zones east of UTC, half-hour offsets and days without a midnight", () => {
    // Sun 2026-11-01 20:00Z is Mon 11-02 01:45 in Kathmandu (+05:45): the week of 11-02 began 11-01T18:15Z.
    const [ktm] = mondayWeeks(Date.parse("2026-11-01T20:00:00Z"), "Asia/Kathmandu", 1);
    expect([ktm!.weekStart, iso(ktm!.from), iso(ktm!.to)]).toEqual(["2026-11-02", "2026-11-01T18:15:00.000Z", "2026-11-08T18:15:00.000Z"]);
    // Chile skips 2026-09-06 00:00 (−04:00 → −03:00 at 04:00Z): that day begins at 01:00 local = 04:00Z.
    expect(iso(startOfLocalDay("2026-09-06", "America/Santiago"))).toBe("2026-09-06T04:00:00.000Z");
    expect(iso(startOfLocalDay("2026-09-07", "America/Santiago"))).toBe("2026-09-07T03:00:00.000Z");
    expect(iso(startOfLocalDay("2026-09-05", "America/Santiago"))).toBe("2026-09-05T04:00:00.000Z");
    expect(iso(startOfLocalDay("2026-07-01", "UTC"))).toBe("2026-07-01T00:00:00.000Z");
  });
});

describe("weekly trend in America/New_York across the end of summer time", () => {
  const t = useTestContext();

  it("puts each workout in the week of its local start date", async () => {
    const user = await createUser(t, "America/New_York");
    const sets = (n: number) => Array.from({ length: n }, () => ["normal", 50, 10] as ["normal", number, number]); // 500 kg a set
    await store(user.id, [
      workout("before", "2026-10-26T03:30:00Z", 30, [{ template: null, title: "Row", sets: sets(1) }]), // Sun 10-25 23:30 EDT: outside
      workout("first", "2026-10-26T04:00:00Z", 30, [{ template: null, title: "Row", sets: sets(2) }]), // Mon 10-26 00:00 EDT: week 10-26
      workout("dst", "2026-11-01T06:30:00Z", 30, [{ template: null, title: "Row", sets: sets(3) }]), // Sun 11-01 01:30 EST (second 01:30): week 10-26
      workout("late", "2026-11-02T04:30:00Z", 30, [{ template: null, title: "Row", sets: sets(4) }]), // Sun 11-01 23:30 EST: week 10-26 (−04:00 would say Monday)
      workout("mon", "2026-11-02T05:00:00Z", 30, [{ template: null, title: "Row", sets: sets(5) }]), // Mon 11-02 00:00 EST: week 11-02
    ]);
    const body = await getAt<SummaryBody>(t, user, "/api/v1/hevy/trends?weeks=2", "2026-11-04T15:00:00Z");
    expect(body).toEqual({
      weeks: [
        { week_start: "2026-10-26", workouts: 3, sets: 9, volume_kg: 4500 }, // first + dst + late: 2 + 3 + 4 sets of 500 kg
        { week_start: "2026-11-02", workouts: 1, sets: 5, volume_kg: 2500 },
      ],
      totals: { workouts: 4, sets: 14, volume_kg: 7000 },
    });
  });
});

describe("GET /api/v1/hevy/sessions/latest/recovery", () => {
  const t = useTestContext();

  it("reads the next morning in the user's zone, or the same day when the session ended before 04:00", async () => {
    const user = await createUser(t, "Asia/Tokyo"); // +09:00, no DST
    await recovery(user.id, "whoop", { "2026-05-12": 100, "2026-05-13": 40, "2026-06-11": 70, "2026-06-12": 80 });
    await recovery(user.id, "oura", { "2026-05-20": 77, "2026-05-21": 78, "2026-05-22": 78, "2026-06-12": 90 });

    // Ends 06-10T18:30Z = Thu 06-11 03:30 JST, before 04:00 → wake-up day 06-11 (not 06-12).
    await store(user.id, [workout("late-night", "2026-06-10T17:30:00Z", 60, [{ template: null, title: "Row", sets: [["normal", 50, 10]] }])]);
    expect(await getAt(t, user, "/api/v1/hevy/sessions/latest/recovery", "2026-06-12T12:00:00Z")).toEqual({
      workout_id: "late-night",
      start_time: "2026-06-10T17:30:00Z",
      // 30 days before 06-11: 05-12 … 06-10 → 100 and 40, mean 70
      whoop_recovery: { date: "2026-06-11", score: 70, avg_30d: 70 },
      oura_readiness: null, // no Oura reading on 06-11
    });

    // Ends 06-10T20:00Z = 06-11 05:00 JST → wake-up day 06-12 (UTC would say 06-11).
    await store(user.id, [workout("evening", "2026-06-10T19:00:00Z", 60, [{ template: null, title: "Row", sets: [["normal", 50, 10]] }])]);
    expect(await getAt(t, user, "/api/v1/hevy/sessions/latest/recovery", "2026-06-12T12:00:00Z")).toEqual({
      workout_id: "evening",
      start_time: "2026-06-10T19:00:00Z",
      // 05-13 … 06-11: 40 and 70 → 55 (05-12 is 31 days before, out)
      whoop_recovery: { date: "2026-06-12", score: 80, avg_30d: 55 },
      // 77, 78, 78 → 233 / 3 = 77.67 → 77.7
      oura_readiness: { date: "2026-06-12", score: 90, avg_30d: 77.7 },
    });
  });

  it("answers 404 before the first workout, and the summary says null", async () => {
    const user = await createUser(t, "Asia/Tokyo");
    await recovery(user.id, "whoop", { "2026-06-11": 70 });
    const res = await getAt<{ code: string }>(t, user, "/api/v1/hevy/sessions/latest/recovery", "2026-06-12T12:00:00Z", 404);
    expect(res.code).toBe("not_found");
    const summary = await getAt<SummaryBody>(t, user, "/api/v1/hevy/summary", "2026-06-12T12:00:00Z");
    expect(summary.latest_session_recovery).toBeNull();
  });
});
