import { and, eq, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { hevyConnections, webhookEndpoints } from "../db/schema";
import { dataDatabases, type Deps, forShard } from "../deps";
import { KeyringError } from "../lib/crypto";
import { aad } from "./webhook-subscription";

/**
 * Re-encryption after a KEY_ENCRYPTION_KEY rotation (SPEC §11). Syncs re-encrypt the envelopes of
 * the connections they read, but a connection that needs a new key, or is never synced, would keep
 * envelopes under the old key forever; this job walks them all, whatever the status, a bounded
 * number of rows per run, and counts what is left so the operator knows when the old key can go.
 * The signing secrets of outgoing webhook endpoints (SPEC §15, current and previous) are envelopes
 * too: walked and counted the same way.
 */

type EnvelopeColumn = "apiKeyEnvelope" | "webhookSecretEnvelope" | "webhookAuthEnvelope";

const ENVELOPES: ReadonlyArray<{ column: EnvelopeColumn; aad: (userId: string) => string }> = [
  { column: "apiKeyEnvelope", aad: aad.apiKey },
  { column: "webhookSecretEnvelope", aad: aad.webhookSecret },
  { column: "webhookAuthEnvelope", aad: aad.webhookAuth },
];

/** The envelope columns of webhook_endpoints: both under the endpoint's one label. */
const ENDPOINT_ENVELOPES = ["secretEnvelope", "previousSecretEnvelope"] as const;
type EndpointEnvelopeColumn = (typeof ENDPOINT_ENVELOPES)[number];

/** Every envelope column, for the counts. */
const ALL_ENVELOPE_COLUMNS: SQLiteColumn[] = [
  ...ENVELOPES.map(({ column }) => hevyConnections[column]),
  ...ENDPOINT_ENVELOPES.map((column) => webhookEndpoints[column]),
];

export interface KeyRotationStatus {
  /** Envelopes under an older key still in the keyring: retiring that key now would make them unreadable. */
  remaining: number;
  /** Envelopes under no key of the keyring (retired too early, or malformed): nothing can re-encrypt them. */
  unreadable: number;
}

export interface KeyRotationRun extends KeyRotationStatus {
  reencrypted: number;
}

/** The key id of an envelope `v1:<kid>:<iv>:<ct>` in SQL; NULL for NULL or a malformed envelope. */
const kidOf = (column: SQLiteColumn): SQL =>
  sql`CASE WHEN substr(${column}, 1, 3) = 'v1:' AND instr(substr(${column}, 4), ':') > 1
    THEN substr(${column}, 4, instr(substr(${column}, 4), ':') - 1) END`;

/** The same in code. */
const envelopeKid = (envelope: string): string | undefined => /^v1:([^:]+):/.exec(envelope)?.[1];

/**
 * Re-encrypts under the current key every envelope of up to `limit` connections that has one
 * under an older key of the keyring, then counts what is left. Envelopes under a key the keyring
 * no longer has are never selected (nothing could open them), so they cannot hold the rest back;
 * they are counted as `unreadable`. Rows are taken in random order, so one that fails to decrypt
 * under a known key (damaged) cannot starve the others either. Each row is written only if its
 * envelopes are still the ones read: a re-connect or a sync may have replaced them meanwhile.
 */
export async function reencryptEnvelopes(
  deps: Pick<Deps, "db" | "keyring">,
  opts: { limit: number } = { limit: 200 },
): Promise<KeyRotationRun> {
  const { db, keyring } = deps;
  const previous = new Set(keyring.previousKids);
  let reencrypted = 0;
  if (previous.size > 0) {
    const oldKids = JSON.stringify([...previous]);
    const rows = await db
      .select({
        userId: hevyConnections.userId,
        apiKeyEnvelope: hevyConnections.apiKeyEnvelope,
        webhookSecretEnvelope: hevyConnections.webhookSecretEnvelope,
        webhookAuthEnvelope: hevyConnections.webhookAuthEnvelope,
      })
      .from(hevyConnections)
      .where(or(...ENVELOPES.map(({ column }) => sql`${kidOf(hevyConnections[column])} IN (SELECT value FROM json_each(${oldKids}))`)))
      .orderBy(sql`random()`)
      .limit(opts.limit);

    const writes = [];
    const counts: number[] = [];
    for (const row of rows) {
      const resealed = await resealRow(deps, row, (kid) => previous.has(kid));
      if (!resealed) continue;
      counts.push(resealed.changed);
      writes.push(resealed.update.returning({ userId: hevyConnections.userId }));
    }
    const endpoints = await db
      .select({
        id: webhookEndpoints.id,
        userId: webhookEndpoints.userId,
        secretEnvelope: webhookEndpoints.secretEnvelope,
        previousSecretEnvelope: webhookEndpoints.previousSecretEnvelope,
      })
      .from(webhookEndpoints)
      .where(or(...ENDPOINT_ENVELOPES.map((column) => sql`${kidOf(webhookEndpoints[column])} IN (SELECT value FROM json_each(${oldKids}))`)))
      .orderBy(sql`random()`)
      .limit(opts.limit);
    for (const row of endpoints) {
      const resealed = await resealEndpoint(deps, row, (kid) => previous.has(kid));
      if (!resealed) continue;
      counts.push(resealed.changed);
      writes.push(resealed.update.returning({ userId: webhookEndpoints.userId }));
    }
    if (writes.length > 0) {
      const results = await db.batch(writes as [(typeof writes)[number], ...typeof writes]);
      results.forEach((written, i) => {
        if (written.length > 0) reencrypted += counts[i]!;
      });
    }
  }

  const status = await keyRotationStatus(deps);
  if (reencrypted > 0 || status.remaining > 0 || status.unreadable > 0) {
    console.log(JSON.stringify({ level: "info", msg: "key rotation", reencrypted, ...status, current_kid: keyring.currentKid }));
  }
  return { reencrypted, ...status };
}

type EnvelopeRow = { userId: string } & Record<EnvelopeColumn, string | null>;

/**
 * The compare-and-set update re-encrypting under the current key every envelope of `row` whose key
 * id `reseal` accepts (null when there is none): it applies only if the row's three envelopes are
 * still the ones read — a re-connect or a webhook-secret rotation may have replaced them meanwhile.
 * An envelope that fails to decrypt is left as it is (and logged, user id only). Used by this job
 * and by every sync job on the connection it reads (src/services/sync/connection-state.ts).
 */
export async function resealRow(deps: Pick<Deps, "db" | "keyring">, row: EnvelopeRow, reseal: (kid: string) => boolean) {
  const { db, keyring } = deps;
  const next = { ...row };
  let changed = 0;
  for (const { column, aad: aadFor } of ENVELOPES) {
    const envelope = row[column];
    const kid = envelope === null ? undefined : envelopeKid(envelope);
    if (envelope === null || kid === undefined || !reseal(kid)) continue;
    try {
      next[column] = await keyring.encrypt((await keyring.decrypt(envelope, aadFor(row.userId))).plaintext, aadFor(row.userId));
      changed++;
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      console.warn(JSON.stringify({ level: "warn", msg: "key rotation: envelope does not decrypt", user_id: row.userId, envelope: column }));
    }
  }
  if (changed === 0) return null;
  const update = db
    .update(hevyConnections)
    .set({ apiKeyEnvelope: next.apiKeyEnvelope, webhookSecretEnvelope: next.webhookSecretEnvelope, webhookAuthEnvelope: next.webhookAuthEnvelope })
    .where(and(eq(hevyConnections.userId, row.userId), ...ENVELOPES.map(({ column }) => sql`${hevyConnections[column]} IS ${row[column]}`)));
  return { update, changed };
}

/**
 * The same for a webhook endpoint's two envelopes (src/services/webhook-endpoints.ts): the update
 * applies only if both are still the ones read (a rotation of the endpoint's secret meanwhile wins).
 */
async function resealEndpoint(
  deps: Pick<Deps, "db" | "keyring">,
  row: { id: string; userId: string } & Record<EndpointEnvelopeColumn, string | null>,
  reseal: (kid: string) => boolean,
) {
  const { db, keyring } = deps;
  const label = aad.webhookEndpointSecret(row.userId, row.id);
  const next = { ...row };
  let changed = 0;
  for (const column of ENDPOINT_ENVELOPES) {
    const envelope = row[column];
    const kid = envelope === null ? undefined : envelopeKid(envelope);
    if (envelope === null || kid === undefined || !reseal(kid)) continue;
    try {
      next[column] = await keyring.encrypt((await keyring.decrypt(envelope, label)).plaintext, label);
      changed++;
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      console.warn(JSON.stringify({ level: "warn", msg: "key rotation: envelope does not decrypt", user_id: row.userId, envelope: `webhook_endpoints.${column}` }));
    }
  }
  if (changed === 0) return null;
  const update = db
    .update(webhookEndpoints)
    .set({ secretEnvelope: next.secretEnvelope!, previousSecretEnvelope: next.previousSecretEnvelope })
    .where(and(eq(webhookEndpoints.id, row.id), ...ENDPOINT_ENVELOPES.map((column) => sql`${webhookEndpoints[column]} IS ${row[column]}`)));
  return { update, changed };
}

/** How many envelopes are under an older key of the keyring, and how many under none: one query. */
export async function keyRotationStatus(deps: Pick<Deps, "db" | "keyring">): Promise<KeyRotationStatus> {
  const { keyring } = deps;
  const oldKids = JSON.stringify(keyring.previousKids);
  const kids = sql.join(
    ALL_ENVELOPE_COLUMNS.map((c) => {
      const table = c.table;
      return sql`SELECT ${kidOf(c)} AS kid FROM ${table} WHERE ${c} IS NOT NULL AND substr(${c}, 1, ${keyring.currentKid.length + 4}) <> ${`v1:${keyring.currentKid}:`}`;
    }),
    sql` UNION ALL `,
  );
  const row = await deps.db.get<{ remaining: number | null; unreadable: number | null }>(sql`
    SELECT SUM(old) AS remaining, SUM(1 - old) AS unreadable
    FROM (SELECT coalesce(kid IN (SELECT value FROM json_each(${oldKids})), 0) AS old FROM (${kids}))`);
  return { remaining: row?.remaining ?? 0, unreadable: row?.unreadable ?? 0 };
}

/** keyRotationStatus summed over every database that holds users' rows (the directory and each shard). */
export async function keyRotationStatusEverywhere(deps: Deps): Promise<KeyRotationStatus> {
  const total: KeyRotationStatus = { remaining: 0, unreadable: 0 };
  for (const { shard } of dataDatabases(deps)) {
    const status = await keyRotationStatus(forShard(deps, shard));
    total.remaining += status.remaining;
    total.unreadable += status.unreadable;
  }
  return total;
}
