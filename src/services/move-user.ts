import { type SQL, sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import { userKey, workoutKeys } from "../db/keys";
import { type Deps, forShard } from "../deps";
import { AppError, notFound } from "../lib/errors";
import type { MoveUserMessage } from "../queue/messages";
import { requestSync } from "./connections";
import { emptiestShard } from "./users";
import { RetryLater } from "./sync/retry";

// Moving a user to another shard (SPEC §12: POST /admin/v1/users/{id}/move): copy, switch, delete.
//
// 1. The directory names the target (`users.moving_to`). From then on the user's queue messages
//    wait (the consumer sends them back with a delay) and their API and page writes answer 503
//    `user_moving`; reads are served from the old shard until the switch.
// 2. Fence: the connection's key epoch in the old shard is replaced, so a job already past the
//    consumer's check writes nothing more there (SPEC §11's job guard does the work).
// 3. Copy every row of the user into the target (after clearing whatever an earlier attempt left
//    there): workouts get new small keys, their exercises and sets follow them by Hevy id. The
//    copy is checked against a fingerprint of the old shard taken after the fence; if a write
//    slipped in, the fence and the copy run again.
// 4. Switch the directory (`shard`, and the database left to clear), clear the old shard, then
//    queue what the fence may have stopped: a delta, or the rest of an unfinished backfill.
//
// Every step can run again: a redelivered message carries on from what the directory says.

/** Per-user tables copied as they are (every column but these tables' own keys is the user's data). */
const PLAIN_TABLES = [
  "hevy_connections",
  "hevy_exercise_templates",
  "sync_runs",
  "hevy_prs",
  "hevy_weeks",
  "hevy_week_templates",
  "hevy_rollup_state",
  "hevy_skipped_workouts",
  "source_workouts",
  "daily_recovery",
  "exports",
  // Outgoing webhooks (SPEC §15): endpoints with their encrypted secrets (bound to user and
  // endpoint id, not to a database), the outbox, its deliveries and their attempts.
  "webhook_endpoints",
  "webhook_events",
  "webhook_deliveries",
  "webhook_attempts",
] as const;

/** Rows per copy statement: a page's JSON stays far below D1's 2 MB per bound value. */
const PAGE = 2000;
/** …and so does a page of large rows (webhook events carry a whole workout): cut at this many characters of JSON. */
const PAGE_CHARS = 1_000_000;
const ATTEMPTS = 3;

type MoveDeps = Pick<Deps, "directory" | "shards" | "queue" | "now"> & Deps;

/**
 * Seconds between naming the target and the copy: an API or page write that passed the check a
 * moment before the directory named it (connecting Hevy takes a few requests to Hevy) has landed
 * by then, in the old shard, and is copied.
 */
export const MOVE_GRACE_SECONDS = 60;
/** How long one delivery of a move holds it: longer than a queue invocation may run. */
const LEASE_MS = 15 * 60_000;

/** POST /admin/v1/users/{id}/move: names the target in the directory and queues the move. */
export async function requestMove(deps: MoveDeps, userId: string, shard: number): Promise<{ id: string; shard: number | null; moving_to: number | null }> {
  if (!deps.shards[shard]) {
    throw new AppError(400, "validation_failed", "Validation failed", `There is no shard ${shard}.`, [{ path: "shard", message: `must be 0 to ${deps.shards.length - 1}` }]);
  }
  const row = await directoryRow(deps, userId);
  if (!row) throw notFound("No user with this id.");
  if (row.move_id !== null) {
    // A move (or its cleanup) is under way: its message is sent again, in case it was lost.
    await deps.queue.send(moveMessage(userId, row.moving_to ?? row.shard ?? 0, row.move_id));
    if (row.moving_to === shard) return { id: userId, shard: row.shard, moving_to: shard };
    throw new AppError(409, "move_in_progress", "A move is in progress", "The user's last move is still being finished; try again in a few minutes.");
  }
  if (row.shard === shard) return { id: userId, shard, moving_to: null };
  const moveId = crypto.randomUUID();
  const named = await deps.directory.d1
    .prepare("UPDATE users SET moving_to = ?1, move_id = ?2 WHERE id = ?3 AND move_id IS NULL AND shard IS NOT ?1")
    .bind(shard, moveId, userId)
    .run();
  if (named.meta.changes === 0) throw new AppError(409, "move_in_progress", "A move is in progress", "Another move of this user started just now.");
  await deps.queue.send(moveMessage(userId, shard, moveId), { delaySeconds: MOVE_GRACE_SECONDS });
  return { id: userId, shard: row.shard, moving_to: shard };
}

const moveMessage = (userId: string, shard: number, moveId: string): MoveUserMessage => ({ type: "move_user", userId, shard, moveId });

/** Moves per POST /admin/v1/users/move-legacy: one queue message each. */
export const ADOPT_MAX = 100;

/**
 * The upgrade from one database (docs/SCALING.md): queues a move to the emptiest shard for up to
 * ADOPT_MAX users whose rows are still in the directory database (users.shard null). Run it again
 * until `remaining` is 0; each move is the same job as POST …/move.
 */
export async function moveLegacyUsers(deps: MoveDeps): Promise<{ queued: number; remaining: number }> {
  if (deps.shards.length === 0) throw new AppError(409, "no_shards", "No shards", "This deployment binds no SHARD_<n> database to move users to.");
  const { results } = await deps.directory.d1
    .prepare("SELECT id FROM users WHERE shard IS NULL AND moving_to IS NULL ORDER BY id LIMIT ?")
    .bind(ADOPT_MAX)
    .all<{ id: string }>();
  for (const { id } of results) await requestMove(deps, id, (await emptiestShard(deps))!);
  const left = await deps.directory.d1.prepare("SELECT count(*) AS n FROM users WHERE shard IS NULL AND moving_to IS NULL").first<{ n: number }>();
  return { queued: results.length, remaining: left?.n ?? 0 };
}

interface DirectoryRow {
  shard: number | null;
  moving_to: number | null;
  move_cleanup: number | null;
  move_id: string | null;
}

const directoryRow = (deps: Pick<Deps, "directory">, userId: string) =>
  deps.directory.d1.prepare("SELECT shard, moving_to, move_cleanup, move_id FROM users WHERE id = ?").bind(userId).first<DirectoryRow>();

/**
 * The queue message's work, for the move the directory names (`move_id`): one delivery at a time
 * holds it (a lease in the directory); another waits. The copy runs while the directory still
 * names the target; the cleanup once it has switched, and never on the shard the user is on.
 */
export async function moveUser(deps: MoveDeps, msg: MoveUserMessage): Promise<void> {
  const now = deps.now();
  const leased = await deps.directory.d1
    .prepare("UPDATE users SET move_lease_until = ? WHERE id = ? AND move_id = ? AND (move_lease_until IS NULL OR move_lease_until < ?)")
    .bind(now + LEASE_MS, msg.userId, msg.moveId, now)
    .run();
  if (leased.meta.changes === 0) {
    const row = await directoryRow(deps, msg.userId);
    if (row?.move_id === msg.moveId) throw new RetryLater(60, "another delivery of this move is running");
    return; // a move that is over (or another one): nothing for this message to do
  }
  try {
    let row = (await directoryRow(deps, msg.userId))!;
    if (row.moving_to !== null && row.moving_to !== row.shard) {
      const source = forShard(deps, row.shard);
      const target = forShard(deps, row.moving_to);
      const copied = await copyUntilStill(source, target, msg.userId);
      const switched = await deps.directory.d1
        .prepare("UPDATE users SET shard = moving_to, moving_to = NULL, move_cleanup = ? WHERE id = ? AND move_id = ? AND moving_to = ?")
        .bind(row.shard ?? -1, msg.userId, msg.moveId, row.moving_to)
        .run();
      if (switched.meta.changes === 0) return;
      await interruptExports(target, msg.userId);
      await catchUp(deps, msg.userId, copied.backfillPending);
      // A write that reached the old copy after the last look would be lost with it: keep it then.
      if ((await fingerprint(source.d1, msg.userId)).value !== copied.fingerprint) {
        console.error(JSON.stringify({ level: "error", msg: "move: the old copy changed after the copy; kept for the operator", user_id: msg.userId }));
        await deps.directory.d1.prepare("UPDATE users SET move_id = NULL, move_cleanup = NULL WHERE id = ? AND move_id = ?").bind(msg.userId, msg.moveId).run();
        return;
      }
      row = (await directoryRow(deps, msg.userId))!;
    }
    if (row.moving_to === null && row.move_cleanup !== null && row.move_cleanup !== (row.shard ?? -1)) {
      const old = forShard(deps, row.move_cleanup === -1 ? null : row.move_cleanup);
      // A user placed before sharding: the directory row is theirs and stays; a shard's copy goes.
      await runBatch(old.d1, clearStatements(msg.userId, row.move_cleanup !== -1));
    }
    await deps.directory.d1.prepare("UPDATE users SET move_cleanup = NULL, move_id = NULL WHERE id = ? AND move_id = ? AND moving_to IS NULL").bind(msg.userId, msg.moveId).run();
  } finally {
    await deps.directory.d1.prepare("UPDATE users SET move_lease_until = NULL WHERE id = ? AND move_id = ?").bind(msg.userId, msg.moveId).run();
  }
}

/**
 * An export that was queued or running when the user moved: its job wrote to the old copy (and is
 * fenced off from it), so in the new one it is marked failed — the user requests a new one.
 */
async function interruptExports(target: Deps, userId: string): Promise<void> {
  await target.d1
    .prepare("UPDATE exports SET status = 'failed', error = 'Interrupted when your data moved to another database: request a new export.', completed_at = ? WHERE user_id = ? AND status IN ('queued', 'running')")
    .bind(target.now(), userId)
    .run();
}

/**
 * Fences the source, copies, and checks nothing was written to the source meanwhile (else again).
 * Returns whether the user's backfill was unfinished (the catch-up resumes it).
 */
async function copyUntilStill(source: Deps, target: Deps, userId: string): Promise<{ backfillPending: boolean; fingerprint: string }> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await source.d1.prepare("UPDATE hevy_connections SET key_epoch = ? WHERE user_id = ? AND key_epoch IS NOT NULL").bind(crypto.randomUUID(), userId).run();
    const before = await fingerprint(source.d1, userId);
    await runBatch(target.d1, clearStatements(userId, true));
    await copyUser(source.d1, target.d1, userId);
    if ((await fingerprint(source.d1, userId)).value === before.value) return { backfillPending: before.backfillPending, fingerprint: before.value };
  }
  throw new RetryLater(30, "the user's rows kept changing in the old shard during the copy");
}

/** What any write of a sync job or an API call changes in the user's rows, and the backfill's state. */
async function fingerprint(d1: D1Database, userId: string): Promise<{ value: string; backfillPending: boolean }> {
  const row = await d1
    .prepare(
      `SELECT (SELECT json_array(updated_at, key_epoch, status, backfill_state, backfill_run_id, backfill_pages_done, events_cursor,
            api_key_envelope, webhook_secret_digest, webhook_secret_envelope, hevy_paused_until, last_error)
          FROM hevy_connections WHERE user_id = ?1) AS connection,
        (SELECT json_array(count(*), max(started_at), max(finished_at), total(upserts)) FROM sync_runs WHERE user_id = ?1) AS runs,
        (SELECT json_array(count(*), max(synced_at), max(hevy_updated_at), max(deleted_at)) FROM hevy_workouts WHERE user_id = ?1) AS workouts,
        (SELECT json_array(count(*), max(received_at)) FROM source_workouts WHERE user_id = ?1) AS sources,
        (SELECT json_array(count(*), max(received_at)) FROM daily_recovery WHERE user_id = ?1) AS recovery,
        (SELECT json_group_array(json_array(id, status, upload_id, row_count, size_bytes)) FROM exports WHERE user_id = ?1) AS exports,
        (SELECT json_array(count(*), max(synced_at)) FROM hevy_exercise_templates WHERE user_id = ?1) AS templates,
        (SELECT json_array(count(*), total(workouts), total(volume_kg)) FROM hevy_weeks WHERE user_id = ?1) AS weeks,
        (SELECT zone FROM hevy_rollup_state WHERE user_id = ?1) AS rollups,
        (SELECT count(*) FROM hevy_skipped_workouts WHERE user_id = ?1) AS skipped,
        (SELECT json_group_array(json_array(id, url, events, secret_envelope, previous_secret_envelope, failing_since, disabled_at)) FROM webhook_endpoints WHERE user_id = ?1) AS endpoints,
        (SELECT json_array(count(*), max(created_at)) FROM webhook_events WHERE user_id = ?1) AS events,
        (SELECT json_array(count(*), total(attempts), max(last_attempt_at), total(status = 'pending')) FROM webhook_deliveries WHERE user_id = ?1) AS deliveries,
        (SELECT count(*) FROM webhook_attempts WHERE user_id = ?1) AS attempts,
        (SELECT timezone FROM users WHERE id = ?1) AS zone,
        (SELECT backfill_state FROM hevy_connections WHERE user_id = ?1) AS backfill`,
    )
    .bind(userId)
    .first<Record<string, string | null>>();
  const { backfill = null, ...rest } = row ?? {};
  return { value: JSON.stringify(rest), backfillPending: backfill !== null && backfill !== "done" };
}

/** Statements deleting every row of the user in one database (with or without the shard's copy of the users row). */
function clearStatements(userId: string, withUserRow: boolean): SQL[] {
  const keys = workoutKeys(userId);
  return [
    sql`DELETE FROM hevy_sets WHERE workout_key IN ${keys}`,
    sql`DELETE FROM hevy_exercises WHERE workout_key IN ${keys}`,
    sql`DELETE FROM hevy_workouts WHERE user_id = ${userId}`,
    sql`DELETE FROM hevy_user_keys WHERE user_id = ${userId}`,
    sql`DELETE FROM hevy_pr_dirty WHERE user_id = ${userId}`,
    ...PLAIN_TABLES.map((table) => sql`DELETE FROM ${sql.identifier(table)} WHERE user_id = ${userId}`),
    ...(withUserRow ? [sql`DELETE FROM users WHERE id = ${userId}`] : []),
  ];
}

/** Copies the user's rows from one database to another (the target holds none of them). */
async function copyUser(from: D1Database, to: D1Database, userId: string): Promise<void> {
  // The users row first (the rows' foreign key), then every table.
  const user = await from.prepare("SELECT id, email, timezone, created_at FROM users WHERE id = ?").bind(userId).first<Record<string, unknown>>();
  if (user) {
    await to.prepare("INSERT INTO users (id, email, timezone, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET id = excluded.id, timezone = excluded.timezone")
      .bind(user.id, user.email, user.timezone, user.created_at).run();
  }
  // The built-in templates the target may not have yet (shared, never the user's to delete).
  await copyRows(from, to, "SELECT * FROM hevy_exercise_templates WHERE user_id = ''", [], "hevy_exercise_templates", "OR IGNORE");
  for (const table of PLAIN_TABLES) await copyRows(from, to, `SELECT * FROM ${table} WHERE user_id = ?`, [userId], table, "OR REPLACE");
  await to.prepare("INSERT INTO hevy_user_keys (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING").bind(userId).run();
  // Workouts without their key (the target numbers them), then children by the workout's Hevy id.
  await copyRows(from, to, "SELECT * FROM hevy_workouts WHERE user_id = ? ORDER BY key", [userId], "hevy_workouts", "OR REPLACE", ["key"]);
  await copyChildren(from, to, userId, "hevy_exercises", ["exercise_index", "title", "notes", "exercise_template_id", "superset_id"]);
  await copyChildren(from, to, userId, "hevy_sets", ["exercise_index", "set_index", "type", "weight_kg", "reps", "distance_meters", "duration_seconds", "rpe", "custom_metric"]);
}

/** Inserts `rows` into `table` (its `columns`, from JSON arrays), PAGE rows a statement. */
async function insertRows(to: D1Database, table: string, columns: string[], rows: unknown[][], conflict: string, extra: { column: string; value: SQL } | null = null, workoutKeyOf: SQL | null = null) {
  for (let i = 0, end = 0; i < rows.length; i = end) {
    // Up to PAGE rows, fewer when their JSON grows past PAGE_CHARS (always at least one).
    let chars = 0;
    for (end = i; end < rows.length && end - i < PAGE; end++) {
      const size = JSON.stringify(rows[end]).length;
      if (end > i && chars + size > PAGE_CHARS) break;
      chars += size;
    }
    const json = JSON.stringify(rows.slice(i, end));
    const names = [...(workoutKeyOf ? ["workout_key"] : []), ...columns, ...(extra ? [extra.column] : [])].map((c) => `"${c}"`).join(", ");
    const values = sql.join(
      [...(workoutKeyOf ? [workoutKeyOf] : []), ...columns.map((_, n) => sql.raw(`j.value ->> ${n + (workoutKeyOf ? 1 : 0)}`)), ...(extra ? [extra.value] : [])],
      sql`, `,
    );
    await runBatch(to, [sql`INSERT ${sql.raw(conflict)} INTO ${sql.identifier(table)} (${sql.raw(names)}) SELECT ${values} FROM json_each(${json}) j`]);
  }
}

/** Copies the rows of `select` into `table`, every column but `skip`. A user's rows of one table fit one read. */
async function copyRows(from: D1Database, to: D1Database, select: string, params: unknown[], table: string, conflict: "OR REPLACE" | "OR IGNORE", skip: string[] = []): Promise<void> {
  const { results } = await from.prepare(select).bind(...params).all<Record<string, unknown>>();
  if (results.length === 0) return;
  const columns = Object.keys(results[0]!).filter((c) => !skip.includes(c));
  await insertRows(to, table, columns, results.map((r) => columns.map((c) => r[c])), conflict);
}

/**
 * Copies exercises or sets, read in key order a page at a time (keyset: sets can be hundreds of
 * thousands), naming their workout by Hevy id in the source and by the target's key.
 */
async function copyChildren(from: D1Database, to: D1Database, userId: string, table: "hevy_exercises" | "hevy_sets", columns: string[]): Promise<void> {
  const keyColumns = table === "hevy_sets" ? ["workout_key", "exercise_index", "set_index"] : ["workout_key", "exercise_index"];
  const workoutKeyOf = workoutKeys(userId, sql` AND w.id = j.value ->> 0`);
  const extra = table === "hevy_exercises" ? { column: "user_key", value: userKey(userId) } : null;
  let after: unknown[] | null = null;
  for (;;) {
    const tuple = `(${keyColumns.map((c) => `c.${c}`).join(", ")})`;
    const { results }: D1Result<Record<string, unknown>> = await from
      .prepare(`SELECT w.id AS hevy_id, ${keyColumns.map((c) => `c.${c} AS k_${c}`).join(", ")}, ${columns.map((c) => `c.${c}`).join(", ")}
        FROM hevy_workouts w CROSS JOIN ${table} c ON c.workout_key = w.key
        WHERE w.user_id = ?${after ? ` AND ${tuple} > (${keyColumns.map(() => "?").join(", ")})` : ""}
        ORDER BY ${keyColumns.map((c) => `c.${c}`).join(", ")} LIMIT ${PAGE}`)
      .bind(userId, ...(after ?? []))
      .all<Record<string, unknown>>();
    if (results.length === 0) return;
    await insertRows(to, table, columns, results.map((r) => [r.hevy_id, ...columns.map((c) => r[c])]), "OR REPLACE", extra, workoutKeyOf);
    if (results.length < PAGE) return;
    const last: Record<string, unknown> = results.at(-1)!;
    after = keyColumns.map((c) => last[`k_${c}`]);
  }
}

/** After the switch: a delta for a finished backfill, the rest of an unfinished one (what the fence may have stopped). */
async function catchUp(deps: MoveDeps, userId: string, backfillPending: boolean): Promise<void> {
  const target = forShard(deps, (await directoryRow(deps, userId))?.shard ?? null);
  const row = await target.d1.prepare("SELECT status, backfill_state, key_epoch FROM hevy_connections WHERE user_id = ?").bind(userId).first<{ status: string; backfill_state: string; key_epoch: string | null }>();
  if (!row || row.status !== "active" || row.key_epoch === null) return;
  if (backfillPending || row.backfill_state !== "done") {
    await requestSync(target, userId);
  } else {
    await deps.queue.send({ type: "delta", userId, reason: "manual" });
  }
}
