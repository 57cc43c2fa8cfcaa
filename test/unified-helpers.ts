import { expect } from "vitest";
import { runBatch } from "../src/db/batch";
import type { Workout } from "../src/hevy/types";
import { deleteWorkoutsStatements, upsertWorkoutsStatements } from "../src/services/sync/store";
import { rollupOwner } from "../src/services/metrics/rollups";
import { dbOf, type TestContext, type TestUser } from "./helpers";

// Shared by the unified-feed tests: fixtures written through the real write paths
// (the sync store for Hevy, the API for other sources) and a reader of the feed.

export const MIN = 60_000;
export const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

export interface FeedRow {
  id: string;
  primary_source: string;
  sources: string[];
  activity_type: string;
  title: string | null;
  start_time: string;
  end_time: string;
  duration_seconds: number;
  strength: { volume_kg: number; set_count: number; exercise_count: number } | null;
  calories_kcal: number | null;
  avg_hr_bpm: number | null;
  max_hr_bpm: number | null;
  linked: Array<{ source: string; external_id: string }>;
}
export interface FeedPage {
  data: FeedRow[];
  next_cursor: string | null;
}

let version = Date.UTC(2030, 0, 1);

/** A Hevy workout as the sync stores it; `sets` are [weight_kg, reps, type?] of one exercise. */
export function hevy(id: string, start: number, minutes: number, opts: { title?: string; sets?: Array<[number, number, ("warmup" | "normal")?]> } = {}): Workout {
  return {
    id, title: opts.title ?? `Lift ${id.slice(0, 4)}`, description: null, routineId: null,
    startTime: start, endTime: start + minutes * MIN, updatedAt: ++version, createdAt: start,
    exercises: opts.sets
      ? [{ index: 0, title: "Bench Press (Barbell)", notes: null, exerciseTemplateId: "79D0BB3A", supersetId: null,
           sets: opts.sets.map(([w, r, type], i) => ({ index: i, type: type ?? "normal", weightKg: w, reps: r, distanceMeters: null, durationSeconds: null, rpe: null, customMetric: null })) }]
      : [],
  };
}

/** Stores (or edits: a newer version) Hevy workouts through the sync's own statements, as one batch. */
export async function storeHevy(userId: string, workouts: Workout[]) {
  const db = await dbOf(userId);
  await runBatch(db, upsertWorkoutsStatements(await rollupOwner(db, userId), workouts.map((w) => ({ ...w, updatedAt: ++version })), Date.now()));
}

export async function deleteHevy(userId: string, ids: string[]) {
  const db = await dbOf(userId);
  await runBatch(db, deleteWorkoutsStatements(await rollupOwner(db, userId), ids.map((id) => ({ id, deletedAt: ++version })), Date.now()));
}

export interface SourceItem {
  external_id: string;
  activity_type: string;
  start_time: string;
  end_time: string;
  title?: string | null;
  calories_kcal?: number | null;
  avg_hr_bpm?: number | null;
  max_hr_bpm?: number | null;
}

/** An Apple Health (or other) workout item starting at `start` (epoch ms) lasting `minutes`. */
export const item = (externalId: string, start: number, minutes: number, extra: Partial<SourceItem> = {}): SourceItem => ({
  external_id: externalId, activity_type: "traditional_strength_training",
  start_time: iso(start), end_time: iso(start + minutes * MIN), ...extra,
});

export async function putSource(t: TestContext, user: TestUser, source: string, items: SourceItem[]) {
  const res = await t.request(`/api/v1/sources/${source}/workouts`, { method: "PUT", token: user.token, json: { items } });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.json()).toEqual({ upserted: items.length });
}

export async function feedPage(t: TestContext, user: TestUser, query = ""): Promise<FeedPage> {
  const res = await t.request(`/api/v1/workouts/unified?${query}`, { token: user.token });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as FeedPage;
}

/** Every row of the feed, following next_cursor. */
export async function feed(t: TestContext, user: TestUser, query = "limit=100"): Promise<FeedRow[]> {
  const rows: FeedRow[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    if (++pages > 200) throw new Error("the feed did not end within 200 pages");
    const page: FeedPage = await feedPage(t, user, `${query}${cursor ? `&cursor=${cursor}` : ""}`);
    rows.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

/** The feed reduced to "id+linked ids", e.g. ["hevy:h1+a1", "apple_health:a2"]: what merged with what. */
export async function pairsOf(t: TestContext, user: TestUser): Promise<string[]> {
  return (await feed(t, user)).map((r) => [r.id, ...r.linked.map((l) => `${l.source}:${l.external_id}`)].join("+")).sort();
}
