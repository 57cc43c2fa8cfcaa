import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiTokens, users } from "../db/schema";
import type { AuthUser } from "../env";
import { type Keyring, randomSecret, sha256Hex } from "./crypto";

export const SESSION_COOKIE = "vt_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const AAD = "page_session";

/**
 * A page session lives only in its cookie, sealed with AES-256-GCM (the keyring,
 * under its own additional data): the user id, the digest of the API token that
 * logged in (never the token), a CSRF secret and an expiry. Each request checks
 * the token is still live, so revoking the token ends every session made with it.
 */
export interface Session {
  userId: string;
  tokenDigest: string;
  csrf: string;
  expiresAt: number;
}

export async function sealSession(keyring: Keyring, session: Session): Promise<string> {
  return keyring.encrypt(JSON.stringify(session), AAD);
}

export async function openSession(deps: { db: Db; keyring: Keyring; now: () => number }, cookie: string | undefined): Promise<{ session: Session; user: AuthUser } | null> {
  if (!cookie || cookie.length > 2048) return null;
  let session: Session;
  try {
    session = JSON.parse((await deps.keyring.decrypt(cookie, AAD)).plaintext) as Session;
  } catch {
    return null;
  }
  if (typeof session.expiresAt !== "number" || session.expiresAt < deps.now()) return null;
  const row = await deps.db
    .select({ id: users.id, email: users.email, timezone: users.timezone, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenDigest, session.tokenDigest))
    .get();
  if (!row || row.revokedAt !== null || row.id !== session.userId) return null;
  return { session, user: { id: row.id, email: row.email, timezone: row.timezone } };
}

export async function newSession(userId: string, token: string, now: number): Promise<Session> {
  return { userId, tokenDigest: await sha256Hex(token), csrf: randomSecret(24), expiresAt: now + SESSION_TTL_MS };
}
