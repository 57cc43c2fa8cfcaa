import type { SQL } from "drizzle-orm";
import { runBatch } from "../../db/batch";

/**
 * One metric as one SQL statement plus the code that shapes its rows. The
 * summary runs all of its parts in one D1 batch (one round trip, one consistent
 * snapshot); each part route runs its own part alone.
 */
export interface MetricPart<T> {
  statement: SQL;
  read(rows: unknown[]): T;
}

type Results<Parts extends readonly MetricPart<unknown>[]> = { [K in keyof Parts]: Parts[K] extends MetricPart<infer R> ? R : never };

export async function runParts<const Parts extends readonly MetricPart<unknown>[]>(d1: D1Database, parts: Parts): Promise<Results<Parts>> {
  const results = await runBatch(d1, parts.map((p) => p.statement));
  return parts.map((p, i) => p.read(results[i]!.results)) as Results<Parts>;
}
