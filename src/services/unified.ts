import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { runBatch } from "../db/batch";
import { OTHER_SOURCES, type OtherSource } from "../db/schema";
import type { Deps } from "../deps";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { isoUtc } from "../lib/time";

// GET /workouts/unified (SPEC §7): one feed over Hevy and every other source.
// Pairs are materialized (source_workouts.paired_hevy_id, src/services/unified-match.ts),
// so a page is ONE statement: at most two index-ordered arms — Hevy workouts with
// their Apple Health partner joined in, and other-source workouts not merged into
// one — merged by SQLite (UNION ALL + ORDER BY + LIMIT: it reads about `limit`
// rows of each arm), keyset-paged on (start_time, id) descending.

/** Every source of the feed, in the order filters list them. */
export const FEED_SOURCES = ["hevy", ...OTHER_SOURCES] as const;
export type FeedSource = (typeof FEED_SOURCES)[number];

export interface UnifiedFilters {
  from?: number;
  to?: number;
  source?: FeedSource;
  limit: number;
  cursor?: string;
}

export interface UnifiedRow {
  id: string;
  primary_source: FeedSource;
  sources: FeedSource[];
  activity_type: string;
  title: string | null;
  start_time: string;
  end_time: string;
  duration_seconds: number;
  strength: { volume_kg: number; set_count: number; exercise_count: number } | null;
  calories_kcal: number | null;
  avg_hr_bpm: number | null;
  max_hr_bpm: number | null;
  linked: Array<{ source: FeedSource; external_id: string }>;
}

const cursorSchema = z.strictObject({ s: z.number().int(), i: z.string().min(1).max(200) });

interface RawRow {
  id: string;
  start_time: number;
  end_time: number;
  source: FeedSource;
  activity_type: string;
  title: string | null;
  volume_kg: number | null;
  set_count: number | null;
  exercise_count: number | null;
  calories_kcal: number | null;
  avg_hr_bpm: number | null;
  max_hr_bpm: number | null;
  linked_id: string | null;
}

export async function listUnified(deps: Pick<Deps, "d1">, userId: string, filters: UnifiedFilters) {
  const after = filters.cursor ? decodeCursor(filters.cursor, cursorSchema) : undefined;
  // Range and keyset conditions on one arm's start column and unified-id expression.
  const window = (start: SQL, uid: SQL): SQL => {
    const parts: SQL[] = [];
    if (filters.from !== undefined) parts.push(sql`AND ${start} >= ${filters.from}`);
    if (filters.to !== undefined) parts.push(sql`AND ${start} < ${filters.to}`);
    // `<=` first so the index on start bounds the scan.
    if (after) parts.push(sql`AND ${start} <= ${after.s} AND (${start} < ${after.s} OR ${uid} < ${after.i})`);
    return sql.join(parts, sql` `);
  };
  const hevyColumns = (start: SQL, uid: SQL) => sql`${uid} AS id, ${start} AS start_time, h.end_time AS end_time, 'hevy' AS source,
    'strength_training' AS activity_type, h.title AS title, h.volume_kg AS volume_kg, h.set_count AS set_count,
    h.exercise_count AS exercise_count, a.calories_kcal AS calories_kcal, a.avg_hr_bpm AS avg_hr_bpm,
    a.max_hr_bpm AS max_hr_bpm, a.external_id AS linked_id`;

  // Every live Hevy workout, in (user_id, start_time, id) index order, its partner probed by paired_hevy_id.
  const hevyUid = sql`'hevy:' || h.id`;
  const allHevy = sql`SELECT ${hevyColumns(sql`h.start_time`, hevyUid)}
    FROM hevy_workouts h
      LEFT JOIN source_workouts a ON a.user_id = h.user_id AND a.paired_hevy_id = h.id AND a.source = 'apple_health'
    WHERE h.user_id = ${userId} AND h.deleted_at IS NULL ${window(sql`h.start_time`, hevyUid)}`;
  // Only the merged ones (source=apple_health), in the partner's copy of the Hevy start
  // (paired_start_time index): no walk over unmerged Hevy workouts.
  const mergedUid = sql`'hevy:' || a.paired_hevy_id`;
  const mergedHevy = sql`SELECT ${hevyColumns(sql`a.paired_start_time`, mergedUid)}
    FROM source_workouts a CROSS JOIN hevy_workouts h
    WHERE a.user_id = ${userId} AND a.paired_start_time IS NOT NULL ${window(sql`a.paired_start_time`, mergedUid)}
      AND h.user_id = a.user_id AND h.id = a.paired_hevy_id AND h.deleted_at IS NULL`;
  // Other sources' workouts not merged into a Hevy one, in (user_id[, source], paired_hevy_id, start_time) order.
  const sourceUid = sql`s.source || ':' || s.external_id`;
  const unmerged = (source?: OtherSource) => sql`SELECT ${sourceUid} AS id, s.start_time AS start_time, s.end_time AS end_time,
      s.source AS source, s.activity_type AS activity_type, s.title AS title, NULL AS volume_kg, NULL AS set_count,
      NULL AS exercise_count, s.calories_kcal AS calories_kcal, s.avg_hr_bpm AS avg_hr_bpm, s.max_hr_bpm AS max_hr_bpm,
      NULL AS linked_id
    FROM source_workouts s
    WHERE s.user_id = ${userId} ${source ? sql`AND s.source = ${source}` : sql``} AND s.paired_hevy_id IS NULL
      ${window(sql`s.start_time`, sourceUid)}`;

  const source = filters.source;
  const arms =
    source === undefined ? [allHevy, unmerged()]
    : source === "hevy" ? [allHevy]
    : source === "apple_health" ? [mergedHevy, unmerged("apple_health")]
    : [unmerged(source)];
  const page = sql`${sql.join(arms, sql` UNION ALL `)} ORDER BY start_time DESC, id DESC LIMIT ${filters.limit + 1}`;
  const [result] = await runBatch(deps.d1, [page]);
  const rows = result!.results as RawRow[];
  const hasMore = rows.length > filters.limit;
  const data = rows.slice(0, filters.limit);
  const last = data.at(-1);
  return {
    data: data.map(toRow),
    next_cursor: hasMore && last ? encodeCursor({ s: last.start_time, i: last.id }) : null,
  };
}

function toRow(r: RawRow): UnifiedRow {
  const linked = r.linked_id === null ? [] : [{ source: "apple_health" as const, external_id: r.linked_id }];
  return {
    id: r.id,
    primary_source: r.source,
    // The primary first, then the others alphabetically (only Apple Health merges, into Hevy).
    sources: [r.source, ...linked.map((l) => l.source).sort()],
    activity_type: r.activity_type,
    title: r.title,
    start_time: isoUtc(r.start_time),
    end_time: isoUtc(r.end_time),
    duration_seconds: Math.round((r.end_time - r.start_time) / 1000),
    strength:
      r.source === "hevy" ? { volume_kg: r.volume_kg ?? 0, set_count: r.set_count ?? 0, exercise_count: r.exercise_count ?? 0 } : null,
    calories_kcal: r.calories_kcal,
    avg_hr_bpm: r.avg_hr_bpm,
    max_hr_bpm: r.max_hr_bpm,
    linked,
  };
}
