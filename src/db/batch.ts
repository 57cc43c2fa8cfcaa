import { is, SQL } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";

const dialect = new SQLiteSyncDialect();

/** A Drizzle query builder (anything with toSQL) or a raw `sql` fragment. */
export type Batchable = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * Runs statements as one D1 batch: one round trip, one implicit transaction
 * (all or nothing). Drizzle's own db.batch cannot take raw `sql` with bound
 * parameters on D1 (drizzle-orm 0.45: SQLiteRaw has no prepared statement), and
 * the json_each writes of src/services/sync/store.ts are raw, so batches that mix
 * them with query builders go through here.
 */
export async function runBatch(d1: D1Database, queries: readonly Batchable[]): Promise<D1Result[]> {
  if (queries.length === 0) return [];
  return d1.batch(
    queries.map((q) => {
      const { sql, params } = is(q, SQL) ? dialect.sqlToQuery(q) : q.toSQL();
      return d1.prepare(sql).bind(...params);
    }),
  );
}
