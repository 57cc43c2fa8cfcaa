import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiTokens, pageSessions, users } from "../db/schema";
import type { AuthUser } from "../env";
import { type Keyring, randomSecret, sha256Hex } from "./crypto";

export const SESSION_COOKIE = "vt_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const AAD = "page_session";

/**
 * A page session is a `page_sessions` row plus its cookie, sealed with AES-256-GCM
 * (the keyring, under its own additional data): the row's id, the user id, the
 * digest of the API token that logged in (never the token), a CSRF secret and an
 * expiry. Each request checks, in one query, that the row is still there and
 * unexpired and the token still live: logout deletes the row, so a copied cookie
 * opens nothing afterwards, and revoking the token ends every session made with it.
 */
export interface Session {
  sessionId: string;
  userId: string;
  tokenDigest: string;
  csrf: string;
  expiresAt: number;
}

// Sessions live in the directory (SPEC §12): a cookie is opened before the user's shard is known.
type SessionDeps = { directory: { db: Db }; now: () => number };

export async function sealSession(keyring: Keyring, session: Session): Promise<string> {
  return keyring.encrypt(JSON.stringify(session), AAD);
}

export async function openSession(deps: SessionDeps & { keyring: Keyring }, cookie: string | undefined): Promise<{ session: Session; user: AuthUser } | null> {
  if (!cookie || cookie.length > 2048) return null;
  let session: Session;
  try {
    session = JSON.parse((await deps.keyring.decrypt(cookie, AAD)).plaintext) as Session;
  } catch {
    return null;
  }
  // A cookie sealed before sessions had rows carries no id: it opens nothing.
  if (typeof session.sessionId !== "string" || typeof session.tokenDigest !== "string") return null;
  const now = deps.now();
  if (typeof session.expiresAt !== "number" || session.expiresAt < now) return null;
  const row = await deps.directory.db
    .select({ id: users.id, email: users.email, timezone: users.timezone, shard: users.shard, movingTo: users.movingTo, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(pageSessions, and(eq(pageSessions.id, session.sessionId), eq(pageSessions.userId, users.id), gt(pageSessions.expiresAt, now)))
    .where(eq(apiTokens.tokenDigest, session.tokenDigest))
    .get();
  if (!row || row.revokedAt !== null || row.id !== session.userId) return null;
  return { session, user: { id: row.id, email: row.email, timezone: row.timezone, shard: row.shard, movingTo: row.movingTo } };
}

/** Records a new session for a user who just logged in with `token`, clearing that user's expired rows in the same batch. */
export async function startSession(deps: SessionDeps, userId: string, token: string): Promise<Session> {
  const now = deps.now();
  const session: Session = { sessionId: crypto.randomUUID(), userId, tokenDigest: await sha256Hex(token), csrf: randomSecret(24), expiresAt: now + SESSION_TTL_MS };
  const db = deps.directory.db;
  await db.batch([
    db.delete(pageSessions).where(and(eq(pageSessions.userId, userId), lte(pageSessions.expiresAt, now))),
    db.insert(pageSessions).values({ id: session.sessionId, userId, createdAt: now, expiresAt: session.expiresAt }),
  ]);
  return session;
}

/** Ends a session on the server: its cookie, or any copy of it, no longer opens a page. */
export async function endSession(deps: SessionDeps, session: Session): Promise<void> {
  await deps.directory.db.delete(pageSessions).where(and(eq(pageSessions.id, session.sessionId), eq(pageSessions.userId, session.userId)));
}
