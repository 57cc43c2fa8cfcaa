import { describe, expect, it } from "vitest";
import { createUser, useTestContext } from "./helpers";
import { deleteHevy, feed, hevy, item, MIN, pairsOf, putSource, storeHevy } from "./unified-helpers";

// SPEC §7 merge rule: a Hevy workout and an Apple Health strength workout are one
// session when their starts are within 2 minutes and their durations differ by at
// most max(10 min, 25 % of the longer); one-to-one, closest start first.

const T0 = Date.UTC(2026, 10, 20, 17, 0, 0);
const S = 1000;

describe("unified feed: merge boundaries", () => {
  const t = useTestContext();

  it("merges starts 119 s and 120 s apart, not 121 s (either side first)", async () => {
    const user = await createUser(t);
    const day = 86_400_000;
    await storeHevy(user.id, [hevy("h119", T0, 60), hevy("h120", T0 + day, 60), hevy("h121", T0 + 2 * day, 60), hevy("hm121", T0 + 3 * day, 60)]);
    await putSource(t, user, "apple_health", [
      item("a119", T0 + 119 * S, 60),
      item("a120", T0 + day - 120 * S, 60),
      item("a121", T0 + 2 * day + 121 * S, 60),
      item("am121", T0 + 3 * day - 121 * S, 60),
    ]);
    expect(await pairsOf(t, user)).toEqual([
      "apple_health:a121", "apple_health:am121",
      "hevy:h119+apple_health:a119", "hevy:h120+apple_health:a120", "hevy:h121", "hevy:hm121",
    ].sort());
  });

  it("merges durations at the limit, not just past it: the 10-minute floor and the 25 % of the longer", async () => {
    const user = await createUser(t);
    const day = 86_400_000;
    await storeHevy(user.id, [
      hevy("floor-at", T0, 20), hevy("floor-past", T0 + day, 20), // 20 vs 30 min: 25 % of 30 = 7.5 < 10 → limit 10 min
      hevy("pct-at", T0 + 2 * day, 60), hevy("pct-past", T0 + 3 * day, 60), // 60 vs 80 min: 25 % of 80 = 20 → limit 20 min
      hevy("pct-shorter", T0 + 4 * day, 100), // 100 vs 75 min: 25 % of the LONGER (100) = 25 → merges
    ]);
    await putSource(t, user, "apple_health", [
      item("a-floor-at", T0, 30),
      { ...item("a-floor-past", T0 + day, 30), end_time: new Date(T0 + day + 30 * MIN + 1 * S).toISOString() },
      item("a-pct-at", T0 + 2 * day, 80),
      { ...item("a-pct-past", T0 + 3 * day, 80), end_time: new Date(T0 + 3 * day + 80 * MIN + 4 * S).toISOString() }, // 20:04 > 25 % of 80:04 = 20:01
      item("a-pct-shorter", T0 + 4 * day, 75),
    ]);
    expect(await pairsOf(t, user)).toEqual([
      "apple_health:a-floor-past", "apple_health:a-pct-past",
      "hevy:floor-at+apple_health:a-floor-at", "hevy:floor-past", "hevy:pct-at+apple_health:a-pct-at", "hevy:pct-past",
      "hevy:pct-shorter+apple_health:a-pct-shorter",
    ].sort());
  });

  it("two Apple Health candidates for one Hevy workout: the closer start wins, the other stays its own row", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h", T0, 60)]);
    // The start difference decides, before the duration difference (a-far's is 0, z-near's 5 min) and the id.
    await putSource(t, user, "apple_health", [item("a-far", T0 - 90 * S, 60), item("z-near", T0 + 30 * S, 65)]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a-far", "hevy:h+apple_health:z-near"]);
  });

  it("equal start differences: the smaller duration difference wins, then the smaller external_id", async () => {
    const user = await createUser(t);
    const day = 86_400_000;
    await storeHevy(user.id, [hevy("h1", T0, 60), hevy("h2", T0 + day, 60)]);
    await putSource(t, user, "apple_health", [
      item("a-long", T0 + 60 * S, 66), item("b-close", T0 - 60 * S, 61), // same |Δstart|, 1 vs 6 min off
      item("y", T0 + day + 60 * S, 62), item("x", T0 + day - 60 * S, 62), // same |Δstart| and |Δduration|
    ]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a-long", "apple_health:y", "hevy:h1+apple_health:b-close", "hevy:h2+apple_health:x"]);
  });

  it("one Apple Health workout near two Hevy workouts goes to the closer; the other pairs with its own candidate if it has one", async () => {
    const user = await createUser(t);
    const day = 86_400_000;
    await storeHevy(user.id, [hevy("far", T0, 60), hevy("near", T0 + 100 * S, 60)]);
    await putSource(t, user, "apple_health", [item("a", T0 + 80 * S, 60)]);
    expect(await pairsOf(t, user)).toEqual(["hevy:far", "hevy:near+apple_health:a"]);

    // A chain: far–a (80 s), near–a (20 s), near–b (110 s), far–b (10 s): closest first gives near–a, far–b.
    await storeHevy(user.id, [hevy("c-far", T0 + day, 60), hevy("c-near", T0 + day + 100 * S, 60)]);
    await putSource(t, user, "apple_health", [item("c-a", T0 + day + 80 * S, 60), item("c-b", T0 + day - 10 * S, 60)]);
    expect((await pairsOf(t, user)).filter((p) => p.includes("c-"))).toEqual(["hevy:c-far+apple_health:c-b", "hevy:c-near+apple_health:c-a"]);
  });

  it("does not merge a non-strength Apple Health workout at the same time, nor another source's strength workout", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h", T0, 60)]);
    await putSource(t, user, "apple_health", [item("walk", T0, 60, { activity_type: "walking" })]);
    await putSource(t, user, "whoop", [item("w", T0, 60, { activity_type: "strength_training" })]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:walk", "hevy:h", "whoop:w"]);
    // Each strength type named in SPEC §7 merges.
    for (const [i, type] of ["strength_training", "traditional_strength_training", "functional_strength_training"].entries()) {
      const start = T0 + (i + 1) * 86_400_000;
      await storeHevy(user.id, [hevy(`h${i}`, start, 60)]);
      await putSource(t, user, "apple_health", [item(`s${i}`, start, 60, { activity_type: type })]);
    }
    expect((await pairsOf(t, user)).filter((p) => p.includes("+"))).toEqual([
      "hevy:h0+apple_health:s0", "hevy:h1+apple_health:s1", "hevy:h2+apple_health:s2",
    ]);
  });

  it("merges a session crossing midnight in the user's zone (instants, not local dates); filters act on the merged row's start", async () => {
    const user = await createUser(t, "America/New_York");
    // 23:59:00 EST on Nov 20 is 04:59:00Z on Nov 21; Apple Health has it at 00:00:30 EST (Nov 21).
    const start = Date.UTC(2026, 10, 21, 4, 59, 0);
    await storeHevy(user.id, [hevy("late", start, 75)]);
    await putSource(t, user, "apple_health", [
      { ...item("midnight", 0, 0), start_time: "2026-11-21T00:00:30-05:00", end_time: "2026-11-21T01:14:00-05:00" },
    ]);
    const rows = await feed(t, user);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: "hevy:late", start_time: "2026-11-21T04:59:00Z", end_time: "2026-11-21T06:14:00Z", linked: [{ source: "apple_health", external_id: "midnight" }] });
    // Filters act on the merged row's (Hevy) start: local midnight is 05:00Z.
    expect(await feed(t, user, "from=2026-11-21T00:00:00-05:00")).toEqual([]);
    expect((await feed(t, user, "to=2026-11-21T00:00:00-05:00")).map((r) => r.id)).toEqual(["hevy:late"]);
  });

  it("on DST change days compares instants, not wall clocks", async () => {
    const user = await createUser(t, "Europe/Berlin");
    // Spring forward, 29 Mar 2026: 01:59 CET is followed by 03:00 CEST. 01:59:00+01:00 and
    // 03:00:30+02:00 are 90 s apart: one session, though the wall clocks are an hour apart.
    await storeHevy(user.id, [hevy("spring", Date.parse("2026-03-29T01:59:00+01:00"), 60)]);
    // Fall back, 25 Oct 2026: 02:30 happens twice. 02:30+02:00 and 02:30+01:00 are an hour apart.
    await storeHevy(user.id, [hevy("fall", Date.parse("2026-10-25T02:30:00+02:00"), 45)]);
    await putSource(t, user, "apple_health", [
      { ...item("spring-ah", 0, 0), start_time: "2026-03-29T03:00:30+02:00", end_time: "2026-03-29T03:59:00+02:00" },
      { ...item("fall-ah", 0, 0), start_time: "2026-10-25T02:30:00+01:00", end_time: "2026-10-25T03:15:00+01:00" },
    ]);
    const rows = await feed(t, user);
    expect(rows.map((r) => [r.id, r.start_time, r.duration_seconds, r.linked.map((l) => l.external_id)])).toEqual([
      ["apple_health:fall-ah", "2026-10-25T01:30:00Z", 45 * 60, []],
      ["hevy:fall", "2026-10-25T00:30:00Z", 45 * 60, []],
      ["hevy:spring", "2026-03-29T00:59:00Z", 60 * 60, ["spring-ah"]],
    ]);
  });
});

describe("unified feed: pairs follow edits, deletions and late arrivals", () => {
  const t = useTestContext();

  it("pairs a late Apple Health workout, and a late Hevy workout, with what is already there", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h-first", T0, 60)]);
    await putSource(t, user, "apple_health", [item("a-late", T0 + 30 * S, 60), item("a-first", T0 + 86_400_000, 60)]);
    await storeHevy(user.id, [hevy("h-late", T0 + 86_400_000 - 45 * S, 60)]);
    expect(await pairsOf(t, user)).toEqual(["hevy:h-first+apple_health:a-late", "hevy:h-late+apple_health:a-first"]);
  });

  it("re-pairs when a Hevy workout moves: its partner is freed and taken by the next candidate", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h1", T0, 60), hevy("h2", T0 + 100 * S, 60)]);
    await putSource(t, user, "apple_health", [item("a", T0 + 40 * S, 60)]);
    expect(await pairsOf(t, user)).toEqual(["hevy:h1+apple_health:a", "hevy:h2"]);
    await storeHevy(user.id, [hevy("h1", T0 + 3 * 3_600_000, 60)]); // edited in Hevy: three hours later
    expect(await pairsOf(t, user)).toEqual(["hevy:h1", "hevy:h2+apple_health:a"]);
    await storeHevy(user.id, [hevy("h1", T0, 60)]); // and back
    expect(await pairsOf(t, user)).toEqual(["hevy:h1+apple_health:a", "hevy:h2"]);
  });

  it("frees the Apple Health workout when its Hevy partner is deleted, and a deleted Hevy workout never shows", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h1", T0, 60), hevy("h2", T0 + 110 * S, 60)]);
    await putSource(t, user, "apple_health", [item("a", T0 + 10 * S, 60)]);
    await deleteHevy(user.id, ["h1"]);
    expect(await pairsOf(t, user)).toEqual(["hevy:h2+apple_health:a"]);
    await deleteHevy(user.id, ["h2"]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a"]);
  });

  it("re-pairs when an Apple Health workout is edited or deleted", async () => {
    const user = await createUser(t);
    await storeHevy(user.id, [hevy("h", T0, 60)]);
    await putSource(t, user, "apple_health", [item("a1", T0 + 20 * S, 60), item("a2", T0 + 60 * S, 60)]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a2", "hevy:h+apple_health:a1"]);
    // a1 turns out to be a walk: a2 takes its place.
    await putSource(t, user, "apple_health", [item("a1", T0 + 20 * S, 60, { activity_type: "walking" })]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a1", "hevy:h+apple_health:a2"]);
    // a1 corrected again, now the closer one: it takes the pair back.
    await putSource(t, user, "apple_health", [item("a1", T0 + 5 * S, 60)]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a2", "hevy:h+apple_health:a1"]);
    // Deleted: a2 pairs again.
    const del = await t.request("/api/v1/sources/apple_health/workouts/a1", { method: "DELETE", token: user.token });
    expect(del.status).toBe(204);
    expect(await pairsOf(t, user)).toEqual(["hevy:h+apple_health:a2"]);
    // Moved out of the window: the Hevy workout stands alone.
    await putSource(t, user, "apple_health", [item("a2", T0 + 5 * MIN, 60)]);
    expect(await pairsOf(t, user)).toEqual(["apple_health:a2", "hevy:h"]);
  });
});
