/** Counts of what a D1 binding was asked to do. */
export interface D1Stats {
  /** Calls that cross to the database: each statement run on its own, each batch, each exec. */
  roundTrips: number;
  /** SQL statements executed, counting every statement inside a batch. */
  statements: number;
}

export const newD1Stats = (): D1Stats => ({ roundTrips: 0, statements: 0 });

const REAL = Symbol("real statement");
type Wrapped = D1PreparedStatement & { [REAL]: D1PreparedStatement };

/**
 * Wraps a D1 binding so every round trip is counted: tests assert query counts
 * per page with it, and sync runs record it (sync_runs.d1_round_trips).
 */
export function instrumentD1(d1: D1Database, stats: D1Stats): D1Database {
  const wrap = (real: D1PreparedStatement): Wrapped => {
    const counted =
      <K extends "first" | "all" | "run" | "raw">(key: K) =>
      (...args: unknown[]) => {
        stats.roundTrips++;
        stats.statements++;
        return (real[key] as (...a: unknown[]) => unknown).apply(real, args);
      };
    return {
      [REAL]: real,
      bind: (...values: unknown[]) => wrap(real.bind(...values)),
      first: counted("first"),
      all: counted("all"),
      run: counted("run"),
      raw: counted("raw"),
    } as unknown as Wrapped;
  };
  return {
    prepare: (query: string) => wrap(d1.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => {
      stats.roundTrips++;
      stats.statements += statements.length;
      return d1.batch(statements.map((s) => (s as Wrapped)[REAL] ?? s));
    },
    exec: (query: string) => {
      stats.roundTrips++;
      stats.statements++;
      return d1.exec(query);
    },
    dump: () => d1.dump(),
    // A session's queries are counted too (reads go through D1 Sessions: src/db/sessions.ts).
    withSession: (constraint?: string) => {
      const session = d1.withSession(constraint);
      return Object.assign(instrumentD1(session as unknown as D1Database, stats), { getBookmark: () => session.getBookmark() });
    },
  } as unknown as D1Database;
}
