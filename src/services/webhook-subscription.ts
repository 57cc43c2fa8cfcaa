import { and, eq, ne } from "drizzle-orm";
import { hevyConnections, webhookRoutes } from "../db/schema";
import type { Deps } from "../deps";
import { HevyError, type HevyClient } from "../hevy/client";
import { type Keyring, KeyringError, randomSecret, sha256Hex } from "../lib/crypto";

export type WebhookStatus = "subscribed" | "unavailable" | "failed";

/** Additional-data labels binding each encrypted secret to its purpose and owner. */
export const aad = {
  apiKey: (userId: string) => `hevy_api_key:${userId}`,
  webhookSecret: (userId: string) => `webhook_secret:${userId}`,
  webhookAuth: (userId: string) => `webhook_auth:${userId}`,
  /**
   * An outgoing webhook endpoint's signing secret (SPEC §15), current or previous: one label for
   * both columns, since a rotation moves the current envelope to the previous one as it is.
   */
  webhookEndpointSecret: (userId: string, endpointId: string) => `webhook_endpoint_secret:${userId}:${endpointId}`,
};

export const webhookUrl = (publicBaseUrl: string, secret: string) => `${publicBaseUrl}/webhooks/hevy/${secret}`;

/**
 * A stored secret in clear, or null when there is none or its envelope is under a
 * KEY_ENCRYPTION_KEY already retired (callers then go without it, never a 500).
 */
export async function openStored(keyring: Keyring, envelope: string | null, aadValue: string): Promise<string | null> {
  if (envelope === null) return null;
  try {
    return (await keyring.decrypt(envelope, aadValue)).plaintext;
  } catch (err) {
    if (err instanceof KeyringError) return null;
    throw err;
  }
}

export interface WebhookColumns {
  webhookStatus: WebhookStatus;
  webhookSecretDigest: string | null;
  webhookSecretEnvelope: string | null;
  webhookAuthEnvelope: string | null;
}

/**
 * Subscribes a fresh secret URL and auth token with Hevy and returns the columns
 * to store. Hevy removed the endpoint from its published spec but it still
 * works for some accounts: a 4xx means "not for this account" (unavailable, the
 * hourly delta carries the connection); a 5xx, 429, network error or timeout is
 * `failed` and the next delta run subscribes again, so the secret is kept.
 */
export async function subscribeWebhook(
  deps: Pick<Deps, "keyring" | "publicBaseUrl" | "directory" | "now">,
  /** Null while Hevy has paused the key (429): the new secret is kept as `failed`, and the first delta after the pause subscribes it. */
  hevy: HevyClient | null,
  userId: string,
  /** A `failed` subscription's secret and token, subscribed again as they are: the URL its owner was shown stays the one Hevy calls. */
  again?: { secret: string; authToken: string },
): Promise<WebhookColumns & { authFailed: boolean }> {
  const secret = again?.secret ?? randomSecret(32);
  const authToken = again?.authToken ?? `Bearer ${randomSecret(32)}`;
  let status: WebhookStatus = hevy ? "subscribed" : "failed";
  let authFailed = false;
  // The directory learns the URL's user before Hevy learns the URL: a delivery can come at once.
  const digest = await sha256Hex(secret);
  await deps.directory.db.insert(webhookRoutes).values({ secretDigest: digest, userId, createdAt: deps.now() }).onConflictDoNothing();
  try {
    await hevy?.subscribeWebhook(webhookUrl(deps.publicBaseUrl, secret), authToken);
  } catch (err) {
    if (!(err instanceof HevyError)) throw err;
    authFailed = err.kind === "auth";
    status = err.kind === "permanent" || err.kind === "auth" ? "unavailable" : "failed";
  }
  if (status === "unavailable") {
    return { webhookStatus: status, webhookSecretDigest: null, webhookSecretEnvelope: null, webhookAuthEnvelope: null, authFailed };
  }
  return {
    webhookStatus: status,
    webhookSecretDigest: digest,
    webhookSecretEnvelope: await deps.keyring.encrypt(secret, aad.webhookSecret(userId)),
    webhookAuthEnvelope: await deps.keyring.encrypt(authToken, aad.webhookAuth(userId)),
    authFailed,
  };
}

/**
 * Drops the user's webhook routes other than the one their connection stores now, read back from
 * the shard after the write (two rotations at once agree on the last one written): run after the
 * connection row's write, never before — until then the old route may still be the one Hevy calls.
 */
export async function pruneWebhookRoutes(deps: Pick<Deps, "directory" | "db">, userId: string): Promise<void> {
  const row = await deps.db.select({ digest: hevyConnections.webhookSecretDigest }).from(hevyConnections).where(eq(hevyConnections.userId, userId)).get();
  const keep = row?.digest ?? null;
  const db = deps.directory.db;
  await db.delete(webhookRoutes).where(keep === null ? eq(webhookRoutes.userId, userId) : and(eq(webhookRoutes.userId, userId), ne(webhookRoutes.secretDigest, keep)));
}
