// Unified feed benchmark: GET /api/v1/workouts/unified?limit=100 under `wrangler dev`
// over a mixed history — `hevy` Hevy workouts and `other` workouts of the other
// sources (a fifth of them Apple Health strength sessions that merge into a Hevy one).
// Seeding: the Hevy rows with ONE `wrangler d1 execute` command (a recursive CTE
// generates them; the feed reads only hevy_workouts, and a backfill through the
// API is what the backfill benchmark measures); the other sources through the API
// (PUT /api/v1/sources/{source}/workouts, 500 per call), so pairing runs exactly as
// in production and its cost is measured too. Then every page of the feed is read,
// unfiltered and per source, and each request is timed from the client.
import { api, createUser, percentile, round, startWorker } from "./lib.ts";

export interface UnifiedResult {
  hevy: number;
  other: number;
  merged: number;
  feedRows: number;
  seedSeconds: { hevySql: number; sourcesApi: number };
  /** PUT of 500 items per call, pairing included. */
  putBatchMs: { p50: number; p95: number; max: number; calls: number };
  /** limit=100 pages, per filter: every page of the feed read front to back, `rounds` times. */
  pages: Record<string, { pages: number; rows: number; p50: number; p95: number; max: number }>;
}

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 10, 20, 17, 0, 0);
/** Hevy workout i starts 12 h before workout i − 1 and lasts 45–74 min. */
const hevyStart = (i: number) => BASE - i * 12 * HOUR;
const hevyMinutes = (i: number) => 45 + ((i * 7) % 30);
const iso = (ms: number) => new Date(ms).toISOString();

/** The other sources' items: which kind the j-th is decides its source and time. */
function otherItem(j: number, hevy: number) {
  const i = j % hevy; // near Hevy workout i
  const start = hevyStart(i);
  switch (j % 5) {
    case 0: // Apple Health strength, 40 s after the Hevy start, 2 min longer: merges
      return { source: "apple_health", item: { external_id: `ah-${j}`, activity_type: "traditional_strength_training", start_time: iso(start + 40_000), end_time: iso(start + (hevyMinutes(i) + 2) * 60_000), calories_kcal: 300 + (j % 200), avg_hr_bpm: 110 + (j % 30), max_hr_bpm: 150 + (j % 30) } };
    case 1:
      return { source: "apple_health", item: { external_id: `ah-${j}`, activity_type: "walking", start_time: iso(start + 3 * HOUR), end_time: iso(start + 3.5 * HOUR), calories_kcal: 150 } };
    case 2:
      return { source: "whoop", item: { external_id: `wh-${j}`, activity_type: "running", start_time: iso(start + 4 * HOUR), end_time: iso(start + 4.6 * HOUR), avg_hr_bpm: 148 } };
    case 3:
      return { source: "oura", item: { external_id: `ou-${j}`, activity_type: "yoga", start_time: iso(start + 5 * HOUR), end_time: iso(start + 6 * HOUR) } };
    default:
      return { source: "strava", item: { external_id: `st-${j}`, activity_type: "cycling", start_time: iso(start + 6 * HOUR), end_time: iso(start + 7.5 * HOUR), title: "Ride" } };
  }
}

interface Page {
  data: Array<{ id: string; linked: unknown[] }>;
  next_cursor: string | null;
}

export async function benchUnified(hevy: number, other: number, rounds = 2): Promise<UnifiedResult> {
  if (other > hevy) throw new Error("at most one other-source workout per Hevy workout (each merges at most once)");
  const worker = await startWorker("http://127.0.0.1:9"); // never called: nobody connects Hevy here
  try {
    const email = `bench-unified-${hevy}@example.com`;
    const token = await createUser(worker, email);
    const userId = worker.sql<{ id: string }>(`SELECT id FROM users WHERE email = '${email}'`)[0]!.id;

    let t = performance.now();
    worker.sql(`INSERT INTO hevy_workouts (user_id, id, title, description, routine_id, start_time, end_time,
        hevy_updated_at, hevy_created_at, deleted_at, volume_kg, set_count, exercise_count, synced_at)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${hevy - 1})
      SELECT '${userId}', printf('%08x-0000-4000-8000-%012x', i, i), 'Lift ' || i, NULL, NULL,
        ${BASE} - i * ${12 * HOUR}, ${BASE} - i * ${12 * HOUR} + (45 + (i * 7) % 30) * 60000,
        ${BASE}, ${BASE}, NULL, 1000 + (i % 50) * 100, 15 + i % 10, 4 + i % 4, ${BASE}
      FROM n`);
    const hevySql = (performance.now() - t) / 1000;

    t = performance.now();
    const bySource = new Map<string, Array<Record<string, unknown>>>();
    for (let j = 0; j < other; j++) {
      const { source, item } = otherItem(j, hevy);
      let list = bySource.get(source);
      if (!list) bySource.set(source, (list = []));
      list.push(item);
    }
    const putMs: number[] = [];
    for (const [source, items] of bySource) {
      for (let k = 0; k < items.length; k += 500) {
        const start = performance.now();
        const res = await api<{ upserted: number }>(worker.url, `/api/v1/sources/${source}/workouts`, { method: "PUT", token, json: { items: items.slice(k, k + 500) } });
        putMs.push(performance.now() - start);
        if (res.status !== 200) throw new Error(`PUT ${source}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    const sourcesApi = (performance.now() - t) / 1000;
    const merged = Math.ceil(other / 5);
    const feedRows = hevy + other - merged;

    const pages: UnifiedResult["pages"] = {};
    for (const source of ["", "hevy", "apple_health", "whoop"]) {
      const times: number[] = [];
      let rows = 0;
      let count = 0;
      for (let round = 0; round < rounds; round++) {
        rows = 0;
        let cursor: string | null = null;
        do {
          const path: string = `/api/v1/workouts/unified?limit=100${source ? `&source=${source}` : ""}${cursor ? `&cursor=${cursor}` : ""}`;
          const start = performance.now();
          const res = await api<Page>(worker.url, path, { token });
          times.push(performance.now() - start);
          if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
          rows += res.body.data.length;
          count++;
          cursor = res.body.next_cursor;
        } while (cursor);
      }
      if (source === "" && rows !== feedRows) throw new Error(`the feed listed ${rows} rows, expected ${feedRows}`);
      times.sort((a, b) => a - b);
      pages[source || "all"] = { pages: count / rounds, rows, p50: round2(percentile(times, 50)), p95: round2(percentile(times, 95)), max: round2(times.at(-1)!) };
    }
    const mergedRows = worker.sql<{ n: number }>(`SELECT count(*) AS n FROM source_workouts WHERE user_id = '${userId}' AND paired_hevy_id IS NOT NULL`)[0]!.n;
    if (mergedRows !== merged) throw new Error(`${mergedRows} pairs stored, expected ${merged}`);
    putMs.sort((a, b) => a - b);
    return {
      hevy, other, merged, feedRows,
      seedSeconds: { hevySql: round(hevySql), sourcesApi: round(sourcesApi) },
      putBatchMs: { p50: round2(percentile(putMs, 50)), p95: round2(percentile(putMs, 95)), max: round2(putMs.at(-1)!), calls: putMs.length },
      pages,
    };
  } finally {
    await worker.stop();
  }
}

const round2 = (n: number) => round(n, 1);
