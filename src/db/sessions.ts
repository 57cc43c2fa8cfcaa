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
  /** The bookmark to answer: the database's name, "~", and D1's bookmark after the session's last query (null before any). */
  bookmark(): string | null;
}

/**
 * Opens the request's session on `d1`, the database named `name` ("db", or the shard's index).
 * Bookmarks are answered as `<name>~<D1 bookmark>`, and a client's is used only on the database
 * that gave it: one from another database (a user moved since, or a stale cookie), malformed or
 * too long is ignored and the session starts as if none had been sent — D1 judges a bookmark only
 * at the first query, where a foreign one could fail the request.
 */
export function openShardSession(d1: D1Database, name: string, write: boolean, bookmark: string | undefined): ShardSession {
  const prefix = `${name}~`;
  const own = bookmark && bookmark.length <= BOOKMARK_MAX && bookmark.startsWith(prefix) ? bookmark.slice(prefix.length) : undefined;
  const usable = own && /^[\w.:-]+$/.test(own) ? own : undefined;
  const session = d1.withSession(write ? "first-primary" : (usable ?? "first-unconstrained"));
  return {
    d1: session as unknown as D1Database,
    bookmark: () => {
      const reached = session.getBookmark();
      return reached ? `${prefix}${reached}` : null;
    },
  };
}
