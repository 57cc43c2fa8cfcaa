import { runBatch } from "../../db/batch";
import { syncRuns } from "../../db/schema";
import type { Deps } from "../../deps";
import { HevyError } from "../../hevy/client";
import type { WebhookWorkoutMessage } from "../../queue/messages";
import { findConnection } from "../connections";
import { connectionApiKey, markNeedsReconnect } from "./connection-state";
import { defaultRetryPolicy, type RetryPolicy, withHevyRetry } from "./retry";
import { upsertWorkoutsStatements } from "./store";

type SyncDeps = Pick<Deps, "db" | "d1" | "keyring" | "hevy" | "now">;

/**
 * A webhook is a hint that a workout was created: fetch it and store it under
 * the same version guard as every other write, so duplicates, out-of-order
 * deliveries and races with a delta run all end with the newest version. A
 * workout Hevy no longer has is left to the events feed, which reports deletions.
 */
export async function fetchWebhookWorkout(deps: SyncDeps, msg: WebhookWorkoutMessage, retry: RetryPolicy = defaultRetryPolicy): Promise<void> {
  const row = await findConnection(deps.db, msg.userId);
  if (!row || row.status !== "active") return;
  let requests = 0;
  const hevy = deps.hevy(await connectionApiKey(deps, row), { onRequest: () => requests++ });
  const startedAt = deps.now();
  let workout;
  try {
    workout = await withHevyRetry(() => hevy.getWorkout(msg.workoutId), retry);
  } catch (err) {
    if (err instanceof HevyError && err.kind === "auth") {
      await markNeedsReconnect(deps.db, msg.userId, null, deps.now());
      return;
    }
    throw err;
  }
  const at = deps.now();
  await runBatch(deps.d1, [
    ...(workout ? upsertWorkoutsStatements(msg.userId, [workout], at) : []),
    deps.db.insert(syncRuns).values({
      id: crypto.randomUUID(), userId: msg.userId, kind: "webhook", outcome: "ok", startedAt, finishedAt: at,
      upserts: workout ? 1 : 0, hevyRequests: requests,
    }),
  ]);
}
