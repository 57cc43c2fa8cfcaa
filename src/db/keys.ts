import { type SQL, sql } from "drizzle-orm";

// The small integer keys of migration 0007 (src/db/schema.ts): exercises and sets name their
// workout by its key, and exercises their user by the user's key. Every way in goes through the
// user's own rows here, so a query on exercises or sets is always one user's.

/** SQL subquery: the keys of the user's workouts (`where`: more conditions on `w`, starting with AND). */
export function workoutKeys(userId: string, where: SQL = sql``): SQL {
  return sql`(SELECT w.key FROM hevy_workouts w WHERE w.user_id = ${userId}${where})`;
}

/** SQL: the user's small integer key (hevy_user_keys), given on their first Hevy write. */
export function userKey(userId: string): SQL {
  return sql`(SELECT k.key FROM hevy_user_keys k WHERE k.user_id = ${userId})`;
}
