// Reads through D1 Sessions (SPEC §12): a request's queries to the user's shard run in one
// session, so they may be served by a read replica yet stay sequentially consistent, and a client
// that sends back the bookmark of its last write (`X-VT-Bookmark`) reads from a copy at least that
// new. Writes start at the primary ("first-primary"); reads without a bookmark take any copy
// ("first-unconstrained"). Drizzle's D1 driver only calls prepare() and batch(), which a session
// has, so `createDb(session as unknown as D1Database)` works over it (the cast: the session type
// lacks exec/dump/withSession).

export const BOOKMARK_HEADER = "X-VT-Bookmark";

/** The longest bookmark taken from a client; D1's are far shorter. */
const BOOKMARK_MAX = 256;

export interface ShardSession {
  /** The session as a D1Database for Drizzle and raw batches. */
  d1: D1Database;
  /** The bookmark after the session's last query (null before any). */
  bookmark(): string | null;
}

/**
 * Opens the request's session on `d1`. A bookmark that is malformed, too long, or from another
 * database (a user moved since) cannot be used: the session then starts at the primary, which
 * is at least as new as anything the client wrote.
 */
export function openShardSession(d1: D1Database, write: boolean, bookmark: string | undefined): ShardSession {
  const usable = bookmark && bookmark.length <= BOOKMARK_MAX && /^[\w.:-]+$/.test(bookmark) ? bookmark : undefined;
  let session: D1DatabaseSession;
  try {
    session = d1.withSession(write ? "first-primary" : (usable ?? "first-unconstrained"));
  } catch {
    session = d1.withSession("first-primary");
  }
  return { d1: session as unknown as D1Database, bookmark: () => session.getBookmark() };
}
