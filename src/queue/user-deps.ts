import { type Deps, forShard } from "../deps";

// Where a queue message's user lives (SPEC §12): shared by the sync and webhook consumers.

export const MOVING = Symbol("moving");

/** How long a job of a user being moved waits before it looks again. */
export const MOVE_WAIT_SECONDS = 30;

/**
 * The deps of the message's user: their shard, looked up in the directory once per message (a
 * user that no longer exists resolves to the directory, where the job finds nothing to do).
 */
export async function forMessageUser(deps: Deps, userId: string): Promise<Deps | typeof MOVING> {
  const row = await deps.directory.d1.prepare("SELECT shard, moving_to FROM users WHERE id = ?").bind(userId).first<{ shard: number | null; moving_to: number | null }>();
  if (row?.moving_to !== null && row?.moving_to !== undefined) return MOVING;
  return forShard(deps, row?.shard ?? null);
}

/** The user's deps for recording a dead letter: their current shard, moving or not. */
export async function homeOf(deps: Deps, userId: string): Promise<Deps> {
  const row = await deps.directory.d1.prepare("SELECT shard FROM users WHERE id = ?").bind(userId).first<{ shard: number | null }>();
  return forShard(deps, row?.shard ?? null);
}
