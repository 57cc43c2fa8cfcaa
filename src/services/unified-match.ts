import { sql, type SQL } from "drizzle-orm";

// The merge rule of the unified feed (SPEC §7, §10), kept materialized:
// source_workouts.paired_hevy_id (and paired_start_time, that workout's start)
// names the Hevy workout an Apple Health strength workout is merged into.
// `rematchStatement` recomputes it, in SQL, for the part of the history a write
// touched, and every write of either side runs it in the same D1 batch as the
// write (src/services/sync/store.ts for Hevy, src/services/sources.ts for Apple
// Health), so the feed never sees a stale pair.
//
// The rule: a live Hevy workout H and an Apple Health strength workout A are
// candidates when |start(A) − start(H)| ≤ 2 min and their durations differ by at
// most max(10 min, 25 % of the longer). Pairs are chosen greedily over candidate
// edges ordered by start difference, then duration difference, then the Apple
// Health external_id, then the Hevy id; an edge is taken when neither side is
// taken yet. So the closest start wins and every workout is in at most one pair.
//
// Greedy matching is local: whether an edge is taken depends only on edges of its
// connected component in the candidate graph. A write can change the components
// of the workouts it wrote (at their new times) and of their previous partners
// (at the old times; an unpaired workout that moves away changes nothing for the
// others). So the statement seeds with those, grows the seeds to whole components
// (recursive CTE over index range probes), reruns greedy on them and rewrites
// paired_hevy_id for every Apple Health workout in them. The cost follows the
// size of the touched components (a handful of rows), never the history.

export const MERGE_WINDOW_MS = 2 * 60_000;
export const MERGE_MIN_DURATION_SLACK_MS = 10 * 60_000;
/** Apple Health activity types that count as strength training (SPEC §7). */
export const STRENGTH_ACTIVITY_TYPES = ["strength_training", "traditional_strength_training", "functional_strength_training"] as const;

/** Separator of the greedy state string; external ids may not contain control characters (src/services/sources.ts). */
const SEP = sql.raw("char(31)");
const WINDOW = sql.raw(String(MERGE_WINDOW_MS));
const SLACK = sql.raw(String(MERGE_MIN_DURATION_SLACK_MS));
const STRENGTH = sql.raw(`(${STRENGTH_ACTIVITY_TYPES.map((t) => `'${t}'`).join(", ")})`);

const durDiff = sql.raw("abs((h.end_time - h.start_time) - (a.end_time - a.start_time))");
/** h and a (aliases) are candidates: starts within the window, durations compatible. */
const candidate = (near: SQL) => sql`${near}
  AND (${durDiff} <= ${SLACK} OR 4 * ${durDiff} <= max(h.end_time - h.start_time, a.end_time - a.start_time))`;
const aIsNode = sql`a.activity_type IN ${STRENGTH} AND a.external_id NOT IN (SELECT id FROM removed_a)`;

// The greedy state restarts per cluster; `base` is the state an edge is checked against.
const base = sql`(CASE WHEN e.c = g.c THEN g.used ELSE ${SEP} END)`;
const free = (kind: "h" | "a", id: SQL) => sql`instr(${base}, ${SEP} || ${sql.raw(`'${kind}'`)} || ${id} || ${SEP}) = 0`;
const took = sql`(${free("h", sql.raw("e.hid"))} AND ${free("a", sql.raw("e.aid"))})`;

export interface RematchSeeds {
  /** Hevy workouts just written or tombstoned. */
  hevyIds?: readonly string[];
  /** Apple Health workouts just written, or about to be deleted. */
  appleIds?: readonly string[];
  /** Apple Health workouts being deleted in the same batch: no longer candidates. */
  removedAppleIds?: readonly string[];
}

/**
 * One UPDATE that re-pairs every workout whose pairing the write of `seeds` can
 * have changed. Run it in the same batch as the write, after it (for deletions of
 * Apple Health workouts: before the DELETE, with them in `removedAppleIds`).
 */
export function rematchStatement(userId: string, seeds: RematchSeeds): SQL {
  const hevyJson = JSON.stringify(seeds.hevyIds ?? []);
  const appleJson = JSON.stringify(seeds.appleIds ?? []);
  const removedJson = JSON.stringify(seeds.removedAppleIds ?? []);
  const edgeJoin = sql`region r CROSS JOIN hevy_workouts h CROSS JOIN source_workouts a
    WHERE r.kind = 'h' AND h.user_id = ${userId} AND h.id = r.id AND h.deleted_at IS NULL
      AND a.user_id = ${userId} AND a.source = 'apple_health' AND ${aIsNode}
      AND ${candidate(sql`a.start_time BETWEEN h.start_time - ${WINDOW} AND h.start_time + ${WINDOW}`)}`;
  return sql`WITH RECURSIVE
    seed_hevy(id) AS MATERIALIZED (SELECT value FROM json_each(${hevyJson})),
    seed_apple(id) AS MATERIALIZED (SELECT value FROM json_each(${appleJson})),
    removed_a(id) AS MATERIALIZED (SELECT value FROM json_each(${removedJson})),
    -- The seeds and their current partners (the pairs a move or deletion breaks up).
    -- (D1 allows at most 5 terms per compound SELECT.)
    seeds(kind, id) AS MATERIALIZED (
      SELECT 'h', id FROM seed_hevy
      UNION SELECT 'h', paired_hevy_id FROM source_workouts
        WHERE user_id = ${userId} AND source = 'apple_health' AND paired_hevy_id IS NOT NULL AND external_id IN (SELECT id FROM seed_apple)
      UNION SELECT 'a', id FROM seed_apple
      UNION SELECT 'a', external_id FROM source_workouts
        WHERE user_id = ${userId} AND paired_hevy_id IN (SELECT id FROM seed_hevy)),
    -- grown to whole components, one candidate edge at a time
    region(kind, id) AS (
      SELECT kind, id FROM seeds
      UNION SELECT 'a', a.external_id FROM ${edgeJoin}
      UNION SELECT 'h', h.id FROM region r CROSS JOIN source_workouts a CROSS JOIN hevy_workouts h
        WHERE r.kind = 'a' AND a.user_id = ${userId} AND a.source = 'apple_health' AND a.external_id = r.id AND ${aIsNode}
          AND h.user_id = ${userId} AND h.deleted_at IS NULL
          AND ${candidate(sql`h.start_time BETWEEN a.start_time - ${WINDOW} AND a.start_time + ${WINDOW}`)}),
    edges(hid, aid, ds, dd, hs) AS MATERIALIZED (
      SELECT h.id, a.external_id, abs(a.start_time - h.start_time), ${durDiff}, h.start_time FROM ${edgeJoin}),
    -- Clusters of edges whose Hevy starts chain less than two windows apart: edges
    -- sharing a workout always share a cluster, so greedy state restarts per
    -- cluster and stays small however many workouts the write touched.
    clustered(hid, aid, ds, dd, c) AS MATERIALIZED (
      SELECT hid, aid, ds, dd, sum(brk) OVER (ORDER BY hs, hid ROWS UNBOUNDED PRECEDING)
      FROM (SELECT *, CASE WHEN hs - lag(hs) OVER (ORDER BY hs, hid) <= 2 * ${WINDOW} THEN 0 ELSE 1 END AS brk FROM edges)),
    ranked(rn, c, hid, aid) AS MATERIALIZED (
      SELECT row_number() OVER (ORDER BY c, ds, dd, aid, hid), c, hid, aid FROM clustered),
    greedy(rn, c, used, hid, aid, took) AS MATERIALIZED (
      SELECT 0, -1, ${SEP}, NULL, NULL, 0
      UNION ALL
      SELECT e.rn, e.c, CASE WHEN ${took} THEN ${base} || 'h' || e.hid || ${SEP} || 'a' || e.aid || ${SEP} ELSE ${base} END,
        e.hid, e.aid, ${took}
      FROM greedy g JOIN ranked e ON e.rn = g.rn + 1),
    target(aid, hid, hstart) AS MATERIALIZED (
      SELECT r.id, g.hid, h.start_time FROM region r
        LEFT JOIN greedy g ON g.took AND g.aid = r.id
        LEFT JOIN hevy_workouts h ON h.user_id = ${userId} AND h.id = g.hid
      WHERE r.kind = 'a')
  UPDATE source_workouts SET paired_hevy_id = t.hid, paired_start_time = t.hstart FROM target t
  WHERE source_workouts.user_id = ${userId} AND source_workouts.source = 'apple_health'
    AND source_workouts.external_id = t.aid AND source_workouts.external_id IN (SELECT aid FROM target)`;
}
