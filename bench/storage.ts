// Storage footprint (docs/SCALING.md): bytes per workout, exercise and set in this
// schema, with and without indexes, measured on a real local D1 database.
//
// Method: the Worker under `wrangler dev` backfills a generated Hevy history from the
// fake Hevy (the production write path: json_each batches, metrics, pairing), Apple
// Health workouts and WHOOP/Oura scores go in through the API; then the local D1
// SQLite file is copied, checkpointed and VACUUMed (as a long-lived database's pages
// would be after SQLite reuses free pages), and SQLite's own `dbstat` table gives the
// bytes of every table and index b-tree (whole pages, which is what D1 bills and
// limits: page_count × page_size).
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, createUser, round, startWorker } from "./lib.ts";

interface BTree { name: string; table: string; kind: "table" | "index"; bytes: number; payload: number }

export interface StorageResult {
  workouts: number;
  exercises: number;
  sets: number;
  otherSourceWorkouts: number;
  recoveryScores: number;
  pageSize: number;
  fileBytes: number;
  /** Every b-tree (table or index): bytes of its pages and of the row payload in them. */
  btrees: BTree[];
  /** Bytes per row of each user-data table: the table's own b-tree, and with its indexes. */
  perRow: Record<string, { rows: number; tableBytes: number; withIndexes: number }>;
  /**
   * Measured on the same copy: a sync_runs row (the hourly delta writes one per user per
   * hour; 10,000 rows shaped like the real one are added).
   */
  whatIf: { syncRunBytes: number };
  /** One Hevy workout with its exercises and sets, all indexes included. */
  bytesPerWorkout: { withIndexes: number; withoutIndexes: number; setsPerWorkout: number; exercisesPerWorkout: number };
  /** The numbers kept at write time (hevy_prs, hevy_weeks, hevy_week_templates): rows and bytes per local week of history. */
  derived: { weeks: number; weekTemplateRowsPerWeek: number; bytesPerWeek: number; prBytes: number };
  /**
   * Users one 10 GB database holds, by the model of docs/SCALING.md §3: 4 Hevy workouts a week,
   * 7 other-source workouts a week, a recovery score a day, sync_runs pruned to 30 days, the
   * derived numbers per week, at `years` of history, each row at the bytes measured here.
   */
  usersPer10GB: Array<{ years: number; bytesPerUser: number; users: number }>;
}

const DAY = 86_400_000;
const KEY_OFFSET = { workouts: 10_000_000, users: 100_000 };

export async function benchStorage(workouts: number): Promise<StorageResult> {
  const fake = new FakeHevy({ seed: 11 });
  const account = fake.createAccount({ name: "Storage" });
  fake.generateHistory(account.apiKey, workouts, { seed: 11, end: new Date(Date.now() - DAY) });
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url);
  const copyDir = mkdtempSync(join(tmpdir(), "vt-storage-"));
  try {
    const token = await createUser(worker, `bench-storage-${workouts}@example.com`);
    // Keys as large as in a full database (SQLite stores small integers in fewer bytes, and the
    // benchmark's own would be small): one placeholder row each makes the sync number workouts
    // from ten million and users from 100,000; both go before the copy is measured.
    // The local files are named by a hash of each database's id: the directory (DB, where the
    // user's rows live until sharding places them) is the one that holds the user.
    const d1File = () => {
      const dir = join(worker.stateDir, "state", "v3", "d1", "miniflare-D1DatabaseObject");
      const main = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && !f.startsWith("metadata")).find((f) => {
        const probe = new DatabaseSync(join(dir, f), { readOnly: true });
        try {
          return (probe.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n > 0;
        } finally {
          probe.close();
        }
      });
      if (!main) throw new Error(`no D1 database file with the user in ${dir}`);
      return { dir, main };
    };
    const placeholders = new DatabaseSync(join(d1File().dir, d1File().main));
    placeholders.exec(`INSERT INTO hevy_user_keys (key, user_id) VALUES (${KEY_OFFSET.users}, 'placeholder');
      INSERT INTO hevy_workouts (key, user_id, id, title, start_time, end_time, hevy_updated_at, deleted_at, synced_at)
        SELECT ${KEY_OFFSET.workouts}, id, 'placeholder', '', 0, 0, 0, 0, 0 FROM users LIMIT 1;`);
    placeholders.close();
    const put = await api<{ backfill: { state: string } }>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    const started = performance.now();
    for (let state = put.body.backfill.state; state !== "done"; ) {
      if (state === "failed" || performance.now() - started > 15 * 60_000) throw new Error(`backfill ${state}`);
      await new Promise((r) => setTimeout(r, 250));
      state = (await api<{ backfill: { state: string } }>(worker.url, "/api/v1/connections/hevy", { token })).body.backfill.state;
    }
    // One Apple Health workout per Hevy session (the strength twin), and a year of both recovery scores.
    const hevy = fake.listWorkouts(account.apiKey);
    for (let i = 0; i < hevy.length; i += 500) {
      const items = hevy.slice(i, i + 500).map((w, j) => ({
        external_id: `ah-${i + j}`, activity_type: "traditional_strength_training",
        start_time: new Date(Date.parse(w.start_time) + 40_000).toISOString(), end_time: w.end_time, calories_kcal: 350, avg_hr_bpm: 118, max_hr_bpm: 160,
      }));
      const res = await api(worker.url, "/api/v1/sources/apple_health/workouts", { method: "PUT", token, json: { items } });
      if (res.status !== 200) throw new Error(`apple health: ${res.status}`);
    }
    for (const source of ["whoop", "oura"]) {
      const items = Array.from({ length: 365 }, (_, d) => ({ date: new Date(Date.now() - d * DAY).toISOString().slice(0, 10), score: 50 + (d % 40) }));
      const res = await api(worker.url, `/api/v1/recovery/${source}`, { method: "PUT", token, json: { items } });
      if (res.status !== 200) throw new Error(`${source}: ${res.status}`);
    }

    // Copy the idle database (with its WAL, if any) and measure the copy.
    const { dir, main } = d1File();
    for (const f of readdirSync(dir).filter((f) => f.startsWith(main))) copyFileSync(join(dir, f), join(copyDir, f));
    const db = new DatabaseSync(join(copyDir, main));
    db.exec(`PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;
      DELETE FROM hevy_workouts WHERE id = 'placeholder'; DELETE FROM hevy_user_keys WHERE user_id = 'placeholder';
      VACUUM;`);
    const one = <T>(sql: string) => db.prepare(sql).get() as T;
    const pageSize = one<{ page_size: number }>("PRAGMA page_size").page_size;
    const pageCount = one<{ page_count: number }>("PRAGMA page_count").page_count;
    const owners = new Map((db.prepare("SELECT name, tbl_name, type FROM sqlite_master WHERE type IN ('table', 'index')").all() as Array<{ name: string; tbl_name: string; type: string }>).map((r) => [r.name, r]));
    const btrees = (db.prepare("SELECT name, sum(pgsize) AS bytes, sum(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC").all() as Array<{ name: string; bytes: number; payload: number }>)
      .map((r) => ({ name: r.name, table: owners.get(r.name)?.tbl_name ?? r.name, kind: (owners.get(r.name)?.type ?? "table") as "table" | "index", bytes: r.bytes, payload: r.payload }));
    const rows = (table: string) => one<{ n: number }>(`SELECT count(*) AS n FROM "${table}"`).n;
    const perRow: StorageResult["perRow"] = {};
    for (const table of ["hevy_workouts", "hevy_exercises", "hevy_sets", "source_workouts", "daily_recovery", "sync_runs", "hevy_exercise_templates", "hevy_prs", "hevy_weeks", "hevy_week_templates"]) {
      const n = rows(table);
      const own = btrees.filter((b) => b.table === table);
      perRow[table] = {
        rows: n,
        tableBytes: round(own.filter((b) => b.kind === "table").reduce((s, b) => s + b.bytes, 0) / n, 1),
        withIndexes: round(own.reduce((s, b) => s + b.bytes, 0) / n, 1),
      };
    }
    const hevyTables = btrees.filter((b) => ["hevy_workouts", "hevy_exercises", "hevy_sets"].includes(b.table));
    const counts = { workouts: rows("hevy_workouts"), exercises: rows("hevy_exercises"), sets: rows("hevy_sets") };
    const whatIf = alternatives(db);
    db.close();
    const bytesOfTables = (tables: string[]) => btrees.filter((b) => tables.includes(b.table)).reduce((n, b) => n + b.bytes, 0);
    const weeks = perRow.hevy_weeks!.rows;
    const derived = {
      weeks,
      weekTemplateRowsPerWeek: round(perRow.hevy_week_templates!.rows / weeks, 2),
      bytesPerWeek: round(bytesOfTables(["hevy_weeks", "hevy_week_templates"]) / weeks, 1),
      prBytes: bytesOfTables(["hevy_prs"]),
    };
    const workoutBytes = hevyTables.reduce((s, b) => s + b.bytes, 0) / counts.workouts;
    const perUser = (years: number) =>
      years * (208 * workoutBytes + 364 * perRow.source_workouts!.withIndexes + 365 * perRow.daily_recovery!.withIndexes + 52 * derived.bytesPerWeek)
      + derived.prBytes + 720 * whatIf.syncRunBytes;
    const usersPer10GB = [2, 5].map((years) => ({ years, bytesPerUser: Math.round(perUser(years)), users: Math.floor(10e9 / perUser(years)) }));
    return {
      ...counts,
      otherSourceWorkouts: perRow.source_workouts!.rows,
      recoveryScores: perRow.daily_recovery!.rows,
      pageSize,
      fileBytes: pageSize * pageCount,
      btrees,
      perRow,
      whatIf,
      derived,
      usersPer10GB,
      bytesPerWorkout: {
        withIndexes: round(hevyTables.reduce((s, b) => s + b.bytes, 0) / counts.workouts, 1),
        withoutIndexes: round(hevyTables.filter((b) => b.kind === "table").reduce((s, b) => s + b.bytes, 0) / counts.workouts, 1),
        setsPerWorkout: round(counts.sets / counts.workouts, 2),
        exercisesPerWorkout: round(counts.exercises / counts.workouts, 2),
      },
    };
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
    await worker.stop();
    await server.close();
  }
}

/** Bytes of the b-trees of `table` (and its indexes), after a VACUUM. */
function bytesOf(db: DatabaseSync, table: string): number {
  db.exec("VACUUM");
  const r = db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)").get(table) as { b: number };
  return r.b;
}

function alternatives(db: DatabaseSync): StorageResult["whatIf"] {
  // sync_runs: 10,000 more rows like the real one (a UUID id, the user's id, an hour apart).
  const runsBefore = bytesOf(db, "sync_runs");
  const n0 = (db.prepare("SELECT count(*) AS n FROM sync_runs").get() as { n: number }).n;
  db.exec(`INSERT INTO sync_runs (id, user_id, kind, outcome, started_at, finished_at, upserts, deletes, hevy_requests, d1_round_trips, error)
    WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 10000)
    SELECT printf('%08x-%04x-4%03x-8%03x-%012x', abs(random()) % 4294967296, i % 65536, i % 4096, i % 4096, abs(random()) % 281474976710656),
      r.user_id, 'delta', 'ok', r.started_at + i * 3600000, r.started_at + i * 3600000 + 150, 2, 1, 1, 4, NULL
    FROM k, (SELECT user_id, started_at FROM sync_runs LIMIT 1) r`);
  const added = (db.prepare("SELECT count(*) AS n FROM sync_runs").get() as { n: number }).n - n0;
  return { syncRunBytes: round((bytesOf(db, "sync_runs") - runsBefore) / added, 1) };
}
