import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../src/env";
import { createHevyClient } from "../src/hevy/client";
import worker from "../src/index";
import type { FakeFault, HevyWorkout } from "./fakes/hevy";
import { dbOf, HEVY_BASE, type TestContext } from "./helpers";
import type { SyncContext } from "./sync-helpers";
import { rowsOf } from "./stored";

/**
 * Serves `faults` in order, one to each matching request, through the fake's own
 * fault kinds (429 with or without Retry-After, 5xx, timeout, network, truncated or
 * schema-violating JSON); then the fake answers normally. `served` says how many
 * were used, so a test can prove every fault it planned really happened.
 */
export function scriptFaults(t: SyncContext, match: (url: URL) => boolean, faults: FakeFault[]) {
  const plan = { served: 0, total: faults.length };
  const queue = [...faults];
  t.around(async (_req, url, next) => {
    const fault = match(url) ? queue.shift() : undefined;
    if (fault) {
      plan.served++;
      // Taken by this very request: the fake picks its fault up synchronously on arrival.
      t.hevy.injectFault({ ...fault, times: 1, match: url.pathname });
    }
    return next();
  });
  return plan;
}

export const isPath = (path: string) => (url: URL) => url.pathname === path;
export const isWorkoutsPage = (page: number) => (url: URL) => url.pathname === "/v1/workouts" && url.searchParams.get("page") === String(page);

/** The production Hevy client with its 10 s timeout shortened, so a `timeout` fault costs 50 ms. */
export const shortTimeoutHevy = (apiKey: string, opts?: { onRequest?: () => void }) =>
  createHevyClient({ baseUrl: HEVY_BASE, apiKey, timeoutMs: 50, onRequest: opts?.onRequest });

/** What D1 holds for a user, counted: nothing lost shows in `stored`, nothing duplicated here. */
export async function rowCounts(userId: string) {
  return (await dbOf(userId)).prepare(
    `SELECT (SELECT count(*) FROM hevy_workouts WHERE user_id = ?1 AND deleted_at IS NULL) AS workouts,
            (SELECT count(*) FROM hevy_workouts WHERE user_id = ?1 AND deleted_at IS NOT NULL) AS tombstones,
            (SELECT count(*) FROM ${rowsOf("hevy_exercises")}) AS exercises,
            (SELECT count(*) FROM ${rowsOf("hevy_sets")}) AS sets`,
  ).bind(userId).first<{ workouts: number; tombstones: number; exercises: number; sets: number }>();
}

/** The same counts worked out from the fake's truth and the ids deleted in Hevy. */
export function truthCounts(workouts: HevyWorkout[], tombstones: number) {
  return {
    workouts: workouts.length,
    tombstones,
    exercises: workouts.reduce((n, w) => n + w.exercises.length, 0),
    sets: workouts.reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0),
  };
}

export const deadLetterRows = (userId: string) =>
  env.DB.prepare("SELECT * FROM dead_letters WHERE user_id = ? ORDER BY received_at, id").bind(userId).all<Record<string, any>>().then((r) => r.results);

/**
 * The next hourly cron, as Cloudflare runs it, keeping only the delta it queues
 * for `userId` (other tests' connections share this database).
 */
export async function runHourlyCron(t: TestContext, userId: string) {
  const ctx = createExecutionContext();
  const scheduled = worker.scheduled as ExportedHandlerScheduledHandler<Env>;
  await scheduled(createScheduledController({ cron: "0 * * * *", scheduledTime: Date.now() }), t.env, ctx);
  await waitOnExecutionContext(ctx);
  const mine = t.queue.take().filter((m) => m.userId === userId);
  t.queue.messages.push(...mine);
  return mine;
}
