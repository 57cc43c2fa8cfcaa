// The hourly delta over 1,000 connections with a few changes each, measured inside
// the Workers runtime: the cron fan-out, then every delta message through the real
// consumer, with the fake Hevy answering after 50 ms like a remote API.
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import { fanOutDeltas } from "../../src/cron";
import { runBatch } from "../../src/db/batch";
import { hevyConnections } from "../../src/db/schema";
import { createDeps } from "../../src/deps";
import type { Env } from "../../src/env";
import { Keyring } from "../../src/lib/crypto";
import { handleQueueBatch } from "../../src/queue/consumer";
import type { SyncMessage } from "../../src/queue/messages";
import { upsertWorkoutsStatements } from "../../src/services/sync/store";
import { rollupOwner } from "../../src/services/metrics/rollups";
import { createUser } from "../../src/services/users";
import { FakeHevy } from "../../test/fakes/hevy";
import { stored, truth } from "../../test/stored";
import { createMessageBatch } from "cloudflare:test";
import { workoutSchema } from "../../src/hevy/schemas";

const CONNECTIONS = 1_000;
const LATENCY_MS = 50;
const CONSUMER_CONCURRENCY = 10;

it(`delta over ${CONNECTIONS} connections`, async () => {
  const fake = new FakeHevy({ seed: 5 });
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => fake.fetch(input, init));
  const sent: SyncMessage[] = [];
  const queue = { send: async (m: SyncMessage) => void sent.push(m), sendBatch: async (b: Iterable<{ body: SyncMessage }>) => { for (const m of b) sent.push(m.body); } };
  const testEnv = { ...env, SYNC_QUEUE: queue as unknown as Env["SYNC_QUEUE"] } as Env;
  const deps = await createDeps(testEnv);
  const keyring = await Keyring.load(env.KEY_ENCRYPTION_KEY);

  // 1,000 users, each connected to a Hevy account whose 3 workouts are already stored (backfill done).
  const cursor = Date.now() - 60_000;
  const users: Array<{ id: string; apiKey: string }> = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const { user } = await createUser(deps, { email: `bench${i}@example.com`, timezone: "UTC" });
    const account = fake.createAccount();
    const history = fake.generateHistory(account.apiKey, 3, { seed: i });
    const now = Date.now();
    await runBatch(env.DB, [
      ...upsertWorkoutsStatements(await rollupOwner(env.DB, user.id), history.map((w) => workoutSchema.parse(w)), now),
      deps.db.insert(hevyConnections).values({
        userId: user.id, status: "active", hevyUserId: account.userId, hevyUserName: account.name,
        apiKeyEnvelope: await keyring.encrypt(account.apiKey, `hevy_api_key:${user.id}`), webhookStatus: "unavailable",
        backfillRunId: crypto.randomUUID(), backfillState: "done", backfillPagesDone: 1, backfillPageCount: 1,
        backfillWorkoutsSynced: 3, eventsCursor: cursor, keyEpoch: crypto.randomUUID(), createdAt: now, updatedAt: now,
      }),
    ]);
    users.push({ id: user.id, apiKey: account.apiKey });
  }
  // A few changes each since the cursor: one edit, one deletion, one new workout.
  for (const u of users) {
    const [first, second] = fake.listWorkouts(u.apiKey);
    fake.putWorkout(u.apiKey, { ...first!, title: `${first!.title} (edited)` });
    fake.deleteWorkout(u.apiKey, second!.id);
    const [extra] = fake.generateHistory(u.apiKey, 1, { seed: 99 });
    fake.putWorkout(u.apiKey, extra!);
  }
  fake.requests.length = 0;
  fake.setLatency(LATENCY_MS);

  const fanOutStart = performance.now();
  const fanned = await fanOutDeltas(deps);
  const fanOutMs = performance.now() - fanOutStart;
  expect(fanned).toBe(CONNECTIONS);

  const start = performance.now();
  const pending = sent.splice(0);
  await Promise.all(
    Array.from({ length: CONSUMER_CONCURRENCY }, async () => {
      for (let m = pending.shift(); m; m = pending.shift()) {
        const batch = createMessageBatch<unknown>("vitaltrends-hevy-sync", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: m }]);
        await handleQueueBatch(batch, testEnv);
      }
    }),
  );
  const wallMs = performance.now() - start;

  const runs = (await env.DB.prepare("SELECT count(*) AS n, sum(upserts) AS upserts, sum(deletes) AS deletes, sum(hevy_requests) AS requests, sum(d1_round_trips) AS trips, sum(finished_at - started_at) AS ms FROM sync_runs WHERE kind = 'delta' AND outcome = 'ok'").first<{ n: number; upserts: number; deletes: number; requests: number; trips: number; ms: number }>())!;
  expect(runs.n).toBe(CONNECTIONS);
  for (const u of users.slice(0, 20)) expect(await stored(u.id)).toEqual(truth(fake.listWorkouts(u.apiKey)));

  const result = {
    connections: CONNECTIONS,
    hevyLatencyMs: LATENCY_MS,
    consumerConcurrency: CONSUMER_CONCURRENCY,
    fanOutMs: Math.round(fanOutMs),
    wallSeconds: Math.round(wallMs / 10) / 100,
    connectionsPerSecond: Math.round((CONNECTIONS / wallMs) * 1000 * 10) / 10,
    perConnection: {
      hevyRequests: fake.requests.length / CONNECTIONS,
      d1RoundTrips: Math.round((runs.trips / CONNECTIONS) * 100) / 100,
      upserts: runs.upserts / CONNECTIONS,
      deletes: runs.deletes / CONNECTIONS,
      meanRunMs: Math.round(runs.ms / CONNECTIONS),
    },
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
});
