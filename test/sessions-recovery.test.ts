import { describe, expect, it } from "vitest";
import { pageText, signedIn } from "./hardening-fixture";
import { createUser, expectProblem, useTestContext } from "./helpers";
import { getAt, recovery, remove, store, workout } from "./metrics-fixtures";

// SPEC §13: every lift session of the hub's window beside the next morning's WHOOP recovery and
// Oura readiness relative to their 30-day averages — the API part and the hub's chart, its
// sentence and its table.

// Wednesday 2026-04-01 12:00 CEST; 5 weeks in Europe/Berlin = [Mon 03-02 00:00 CET, Mon 04-06 00:00 CEST).
const NOW = "2026-04-01T10:00:00Z";

interface SessionBody {
  data: Array<{
    workout_id: string; title: string; start_time: string; volume_kg: number;
    whoop_recovery: { date: string; score: number; avg_30d: number | null } | null;
    oura_readiness: { date: string; score: number; avg_30d: number | null } | null;
  }>;
  next_cursor: null;
}

const bench = (kg: number, reps: number) => [{ template: "79D0BB3A", title: "Bench Press (Barbell)", sets: [["normal", kg, reps]] as Array<["normal", number, number]> }];

describe("GET /api/v1/hevy/sessions/recovery", () => {
  const t = useTestContext();

  it("sets every session of the window against its own wake-up day and the 30 days before, oldest first", async () => {
    const user = await createUser(t, "Europe/Berlin");
    const other = await createUser(t, "Europe/Berlin");
    await store(user.id, [
      workout("before", "2026-03-01T10:00:00Z", 60, bench(100, 1)), // Sun 03-01: before the window
      // Tue 03-10 18:00–19:00 CET: wake-up day 03-11.
      workout("tue", "2026-03-10T17:00:00Z", 60, bench(100, 5)),
      // Mon 03-30 00:30–01:20 CEST: ends before 04:00, so the wake-up day is 03-30 itself.
      workout("late", "2026-03-29T22:30:00Z", 50, bench(120, 3)),
      workout("gone", "2026-03-20T17:00:00Z", 60, bench(50, 1)),
    ]);
    await remove(user.id, "gone", Date.parse("2026-03-21T00:00:00Z"));
    await store(other.id, [workout("theirs", "2026-03-10T17:00:00Z", 60, bench(300, 1))]);
    // 03-11: the 30 days before are 02-09 … 03-10 → (60 + 40) / 2 = 50 (02-08 is outside).
    // 03-30: 02-28 … 03-29 → (60 + 70) / 2 = 65.
    await recovery(user.id, "whoop", { "2026-02-08": 99, "2026-02-09": 40, "2026-03-10": 60, "2026-03-11": 70, "2026-03-30": 50 });
    await recovery(user.id, "oura", { "2026-03-11": 80 }); // nothing before: no average
    await recovery(other.id, "whoop", { "2026-03-11": 1, "2026-03-10": 1, "2026-03-30": 1 });

    const body = await getAt<SessionBody>(t, user, "/api/v1/hevy/sessions/recovery?weeks=5", NOW);
    expect(body).toEqual({
      data: [
        {
          workout_id: "tue", title: "Workout tue", start_time: "2026-03-10T17:00:00Z", volume_kg: 500,
          whoop_recovery: { date: "2026-03-11", score: 70, avg_30d: 50 },
          oura_readiness: { date: "2026-03-11", score: 80, avg_30d: null },
        },
        {
          workout_id: "late", title: "Workout late", start_time: "2026-03-29T22:30:00Z", volume_kg: 360,
          whoop_recovery: { date: "2026-03-30", score: 50, avg_30d: 65 },
          oura_readiness: null,
        },
      ],
      next_cursor: null,
    });
    // The latest session's part agrees with the window's last session.
    const latest = await getAt<{ whoop_recovery: unknown }>(t, user, "/api/v1/hevy/sessions/latest/recovery", NOW);
    expect(latest.whoop_recovery).toEqual(body.data[1]!.whoop_recovery);

    const theirs = await getAt<SessionBody>(t, other, "/api/v1/hevy/sessions/recovery?weeks=5", NOW);
    expect(theirs.data.map((s) => [s.workout_id, s.whoop_recovery?.score])).toEqual([["theirs", 1]]);
  });

  it("defaults to 12 weeks and refuses a window it does not serve", async () => {
    const user = await createUser(t, "UTC");
    await store(user.id, [workout("old", "2026-01-20T10:00:00Z", 60, bench(100, 1))]); // 10 weeks before NOW
    expect((await getAt<SessionBody>(t, user, "/api/v1/hevy/sessions/recovery", NOW)).data.map((s) => s.workout_id)).toEqual(["old"]);
    expect((await getAt<SessionBody>(t, user, "/api/v1/hevy/sessions/recovery?weeks=4", NOW)).data).toEqual([]);
    for (const q of ["weeks=0", "weeks=105", "weeks=abc", "week=4"]) {
      const res = await t.request(`/api/v1/hevy/sessions/recovery?${q}`, { headers: { authorization: `Bearer ${user.token}` } });
      await expectProblem(res, 400, "validation_failed");
    }
  });
});

const text = pageText;
const DAY = 86_400_000;
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("the hub: sessions vs the next morning", () => {
  const t = useTestContext();

  it("draws each session's volume and next-morning readings against the 30-day average, says the pattern, and lists every number", async () => {
    const user = await createUser(t, "UTC");
    const today = Date.parse(`${utcDate(Date.now())}T00:00:00Z`);
    const a = today - 9 * DAY + 17 * 3_600_000; // 17:00 nine days ago, wakes the next day
    const b = today - 3 * DAY + 17 * 3_600_000;
    await store(user.id, [workout("s-a", new Date(a).toISOString(), 60, bench(100, 10)), workout("s-b", new Date(b).toISOString(), 60, bench(1000, 12))]);
    const wakeA = utcDate(a + DAY);
    const wakeB = utcDate(b + DAY);
    // Before A's morning: 60 and 40 → 50; A's morning 74 (+24). Before B's: 60, 40, 74 → 58; B's morning 49 (−9).
    await recovery(user.id, "whoop", { [utcDate(a - 5 * DAY)]: 60, [utcDate(a - 2 * DAY)]: 40, [wakeA]: 74, [wakeB]: 49 });
    await recovery(user.id, "oura", { [utcDate(a - DAY)]: 70, [wakeB]: 77 }); // B only: 77 vs 70 (+7)

    const get = await signedIn(t, user);
    const { res, html } = await get("/hevy?weeks=4");
    expect(res.status, html).toBe(200);
    const page = text(html);
    // Two bars, two WHOOP points, one Oura mark, labelled as an image with its title.
    expect(html.match(/data-session="/g)).toHaveLength(2);
    expect([...html.matchAll(/data-whoop="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual([24, -9]);
    expect([...html.matchAll(/data-oura="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual([7]);
    expect(html).toMatch(/<svg class="chart" id="sessions-recovery-chart"[^>]* role="img" aria-label="Volume of each of 2 sessions in the last 4 weeks/);
    // The sentence a person reads at a glance: mean of +24 and −9 = +7.5.
    expect(page).toContain("WHOOP recovery the morning after a session: on average +7.5 points above your 30-day average (2 sessions)");
    expect(page).toContain("Oura readiness the morning after a session: on average +7 points above your 30-day average (1 session)");
    // The table: newest first, volumes with units and separators, each score with its distance from the average.
    const rows = [...html.matchAll(/<tr data-workout="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1], text(m[2]!).trim()]);
    expect(rows).toEqual([
      ["s-b", expect.stringMatching(/12,000 kg 49 \(−9\) 77 \(\+7\)$/)],
      ["s-a", expect.stringMatching(/1,000 kg 74 \(\+24\) –$/)],
    ]);
    expect(html).toContain('href="/workouts/hevy/s-b"');
  });

  it("has a window selector naming the chosen window, falls back to 12 weeks, and says when there is no session", async () => {
    const user = await createUser(t, "UTC");
    const get = await signedIn(t, user);
    const selected = (html: string) => /<a href="\/hevy\?weeks=(\d+)" aria-current="true"/.exec(html)?.[1];
    const four = await get("/hevy?weeks=4");
    expect(selected(four.html)).toBe("4");
    expect([...four.html.matchAll(/href="\/hevy\?weeks=(\d+)"/g)].map((m) => m[1])).toEqual(["4", "12", "26", "52"]);
    expect(text(four.html)).toContain("No lift session in the last 4 weeks.");
    expect(selected((await get("/hevy?weeks=7")).html)).toBe("12");
    expect(selected((await get("/hevy")).html)).toBe("12");
  });
});
