import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { hevyConnections, users, webhookRoutes } from "../db/schema";
import { type Deps, forShard } from "../deps";
import { sha256Hex, timingSafeEqualStrings } from "../lib/crypto";
import { AppError, notFound, validationFailed } from "../lib/errors";
import { sendAfterPause } from "./sync/connection-state";
import { aad, openStored } from "./webhook-subscription";

/** Secrets are 32 random bytes in base64url (43 chars); anything far off cannot be one. */
const PLAUSIBLE_SECRET = /^[A-Za-z0-9_-]{32,128}$/;

export const webhookDelivery = z.object({
  id: z.string().min(1).max(128),
  // Hevy's ids are UUIDs. The id becomes a path segment of a Hevy request: ".." would be resolved by URL
  // parsing and a lone surrogate makes encodeURIComponent throw in the queue consumer.
  payload: z.object({ workoutId: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, "must be a Hevy workout id") }),
});

export type WebhookOutcome = "queued" | "ignored";

/**
 * A delivery from Hevy to POST /webhooks/hevy/{secret}. Checked in the order the
 * contract gives — secret (404), rate limit (429), Authorization (401), body (400) — and answered
 * without calling Hevy: the workout fetch is queued. Deliveries for a connection
 * that needs a new key are accepted and ignored, so Hevy stops retrying them.
 */
export async function acceptWebhookDelivery(
  deps: Deps,
  secret: string,
  authorization: string | undefined,
  readBody: () => Promise<string>,
): Promise<WebhookOutcome> {
  const unknown = notFound("No webhook at this address.");
  if (!PLAUSIBLE_SECRET.test(secret)) throw unknown;
  // The directory names the secret's user and so their shard (SPEC §12); the shard's connection
  // row, which must still hold this secret, is the authority.
  const digest = await sha256Hex(secret);
  const routeOf = () =>
    deps.directory.db
      .select({ userId: webhookRoutes.userId, shard: users.shard })
      .from(webhookRoutes)
      .innerJoin(users, eq(users.id, webhookRoutes.userId))
      .where(eq(webhookRoutes.secretDigest, digest))
      .get();
  const connectionOf = (shardDeps: Deps, userId: string) =>
    shardDeps.db
      .select({
        userId: hevyConnections.userId,
        status: hevyConnections.status,
        authEnvelope: hevyConnections.webhookAuthEnvelope,
        hevyPausedUntil: hevyConnections.hevyPausedUntil,
      })
      .from(hevyConnections)
      .where(and(eq(hevyConnections.userId, userId), eq(hevyConnections.webhookSecretDigest, digest)))
      .get();
  let route = await routeOf();
  if (!route) throw unknown;
  // Per connection (one per user; the user id outlives secret rotations), and before the shard
  // read, decryption and Authorization check that each delivery costs.
  await deps.rateLimits.webhook.check(route.userId);
  let shardDeps = forShard(deps, route.shard);
  let row = await connectionOf(shardDeps, route.userId);
  if (!row) {
    // The user may have just moved to another shard (the old copy cleared after the directory was
    // read): look once more where the directory says now.
    const again = await routeOf();
    if (again && again.shard !== route.shard) {
      route = again;
      shardDeps = forShard(deps, route.shard);
      row = await connectionOf(shardDeps, route.userId);
    }
  }
  if (!row || !row.authEnvelope) throw unknown;

  const expected = await openStored(deps.keyring, row.authEnvelope, aad.webhookAuth(row.userId));
  if (expected === null) {
    // Under a KEY_ENCRYPTION_KEY retired too early: no token to check against, so no webhook here.
    console.warn(JSON.stringify({ level: "warn", msg: "webhook auth token unreadable: delivery refused as unknown", user_id: row.userId }));
    throw unknown;
  }
  if (!(await timingSafeEqualStrings(authorization ?? "", expected))) {
    throw new AppError(401, "unauthorized", "Unauthorized", "The Authorization header does not match this webhook.");
  }

  let json: unknown;
  try {
    json = JSON.parse(await readBody());
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(400, "invalid_json", "Malformed JSON", "The request body is not valid JSON.");
  }
  const parsed = webhookDelivery.safeParse(json);
  if (!parsed.success) throw validationFailed(parsed.error.issues);

  if (row.status !== "active") return "ignored";
  // While Hevy has paused the key (429 Retry-After), the fetch waits the pause out in the queue.
  await sendAfterPause(shardDeps, row, {
    type: "webhook_workout",
    userId: row.userId,
    workoutId: parsed.data.payload.workoutId,
    deliveryId: parsed.data.id,
  });
  return "queued";
}
