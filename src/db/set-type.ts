// hevy_sets.type is stored compactly (SPEC §12, denser rows): Hevy's four known set types as the
// integers 0–3 — SQLite stores 0 and 1 in no bytes at all and 2 and 3 in one — and any other type
// Hevy may add as the text it sent (SPEC §11: unknown values are kept as given). The column has no
// type affinity, so an integer code and a text can never be mistaken for each other: a type Hevy
// spelled "1" stays the text '1', not a warm-up.
//
// Each helper returns SQL text around a column or expression of our own (never user input), for
// drizzle templates (sql.raw) and prepared statements alike.

/** The stored value of warm-up sets (metrics leave them out). */
export const WARMUP_CODE = 1;

/** SQL: the stored form of the set type in `expression` (a text). */
export function encodeSetType(expression: string): string {
  return `CASE ${expression} WHEN 'normal' THEN 0 WHEN 'warmup' THEN 1 WHEN 'failure' THEN 2 WHEN 'dropset' THEN 3 ELSE ${expression} END`;
}

/** SQL: Hevy's type name from the stored `column`. */
export function decodeSetType(column: string): string {
  return `CASE ${column} WHEN 0 THEN 'normal' WHEN 1 THEN 'warmup' WHEN 2 THEN 'failure' WHEN 3 THEN 'dropset' ELSE ${column} END`;
}

/** SQL: the set in `column` is not a warm-up (every other type, unknown ones included, is a working set). */
export function workingSet(column: string): string {
  return `${column} IS NOT ${WARMUP_CODE}`;
}
