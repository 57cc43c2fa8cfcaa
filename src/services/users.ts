import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiTokens, users } from "../db/schema";
import type { AuthUser } from "../env";
import { randomSecret, sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";

export const API_TOKEN_PREFIX = "vt_";

export interface CreatedUser {
  user: AuthUser;
  apiToken: string;
}

/** Creates a user and their first API token. The token is returned once and stored only as a digest. */
export async function createUser(
  deps: { db: Db; now: () => number },
  input: { email: string; timezone: string },
): Promise<CreatedUser> {
  const email = input.email.trim().toLowerCase();
  const existing = await deps.db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (existing) throw new AppError(409, "email_taken", "Email already registered", `A user with ${email} exists.`);

  const user: AuthUser = { id: crypto.randomUUID(), email, timezone: input.timezone };
  const apiToken = API_TOKEN_PREFIX + randomSecret(32);
  const now = deps.now();
  const tokenDigest = await sha256Hex(apiToken);
  try {
    await deps.db.batch([
      deps.db.insert(users).values({ ...user, createdAt: now }),
      deps.db.insert(apiTokens).values({ id: crypto.randomUUID(), userId: user.id, tokenDigest, createdAt: now }),
    ]);
  } catch (err) {
    // A concurrent request registered the same email between the check and the insert.
    if (String(err).includes("UNIQUE constraint failed: users.email")) {
      throw new AppError(409, "email_taken", "Email already registered", `A user with ${email} exists.`);
    }
    throw err;
  }
  return { user, apiToken };
}

/** The user owning a live API token, or null. Looked up by the token's SHA-256 digest. */
export async function userForToken(db: Db, token: string): Promise<AuthUser | null> {
  const digest = await sha256Hex(token);
  const row = await db
    .select({ id: users.id, email: users.email, timezone: users.timezone, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenDigest, digest))
    .get();
  if (!row || row.revokedAt !== null) return null;
  return { id: row.id, email: row.email, timezone: row.timezone };
}
