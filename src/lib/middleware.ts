import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createDb } from "../db/client";
import { BOOKMARK_HEADER, openShardSession } from "../db/sessions";
import { createDeps, type Deps, shardD1 } from "../deps";
import type { AppEnv, AuthUser } from "../env";
import { userForToken } from "../services/users";
import { timingSafeEqualStrings } from "./crypto";
import { AppError, payloadTooLarge } from "./errors";

export const MIB = 1024 * 1024;

/** Bodies over `maxBytes` are refused with 413 before they are read in full. */
export const limitBody = (maxBytes: number): MiddlewareHandler =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw payloadTooLarge(maxBytes);
    },
  });

/** Builds the per-request dependencies (Drizzle handle, keyring, Hevy client factory). */
export const withDeps = (overrides?: Partial<Deps>): MiddlewareHandler<AppEnv> => async (c, next) => {
  c.set("deps", await createDeps(c.env, overrides));
  await next();
};

function bearerToken(c: Context): string | null {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return match?.[1] ?? null;
}

const unauthorized = (detail: string) =>
  new AppError(401, "unauthorized", "Unauthorized", detail, undefined, { "www-authenticate": 'Bearer realm="vitaltrends"' });

/** `/api/v1/*`: a live API token in `Authorization: Bearer`, resolved to its user. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c);
  if (!token) throw unauthorized("Send an API token as Authorization: Bearer vt_...");
  const found = await userForToken(c.var.deps.directory.db, token);
  if (!found) throw unauthorized("The API token is unknown or revoked.");
  const { tokenId, ...user } = found;
  // Per token, not per user: a user's other tokens (another app) keep their own allowance.
  await c.var.deps.rateLimits.api.check(tokenId);
  c.set("user", user);
  refuseWritesWhileMoving(c.req.method, user);
  // From here on the request is this user's: their shard's database (SPEC §12), in a D1 session
  // that reads what the client's bookmark says it wrote, and answers the bookmark it reached.
  const session = userSession(c.var.deps, user, c.req.method, c.req.header(BOOKMARK_HEADER));
  c.set("deps", session.deps);
  await next();
  const bookmark = session.bookmark();
  if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
};

/** The deps of `user`'s request: their shard, through a D1 session (src/db/sessions.ts). */
export function userSession(deps: Deps, user: AuthUser, method: string, bookmark: string | undefined): { deps: Deps; bookmark(): string | null } {
  const session = openShardSession(shardD1(deps, user.shard), user.shard === null ? "db" : String(user.shard), method !== "GET" && method !== "HEAD", bookmark);
  return { deps: { ...deps, d1: session.d1, db: createDb(session.d1) }, bookmark: session.bookmark };
}

/** `/admin/v1/*`: the ADMIN_TOKEN secret, compared in constant time. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c);
  const expected = c.env.ADMIN_TOKEN;
  if (!token || !expected || !(await timingSafeEqualStrings(token, expected))) {
    throw unauthorized("Send the admin token as Authorization: Bearer <ADMIN_TOKEN>.");
  }
  await next();
};

/** While a user's rows are copied to another shard, reads are served from the old one and writes wait. */
export function refuseWritesWhileMoving(method: string, user: AuthUser): void {
  if (user.movingTo === null || user.movingTo === undefined || method === "GET" || method === "HEAD") return;
  throw new AppError(503, "user_moving", "Moving to another database", "Your data is being moved to another database; try again in a minute.", undefined, {
    "retry-after": "30",
  });
}
