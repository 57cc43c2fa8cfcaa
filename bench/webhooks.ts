// Outgoing webhooks (SPEC §15) end to end on loopback: the Worker under `wrangler dev`, the fake
// Hevy over HTTP, and a consumer endpoint (scripts/webhook-receiver.ts) that verifies every
// signature with the `standardwebhooks` package. Everything is measured beside its baseline in
// the same run, on the same Worker:
//
// 1. Throughput: Hevy reports `changes` changed workouts for two users, one with an endpoint and
//    one without. One delta each stores them; the listening user's also writes 1,000 events and
//    their deliveries drain through WEBHOOK_QUEUE. Reports each delta's time (the outbox's cost is
//    the difference) and events per second from the sync request to the last delivery.
// 2. Latency: a workout logged in Hevy and Hevy's webhook to the Worker; the time until the
//    workout is readable through the API (the baseline: fetch job and store) and until the
//    consumer has hevy.workout.created (plus the outbox, the webhook queue and the POST), both
//    polled in the same loop, `latencySamples` times one after the other. Local queues batch with
//    a 1 s timeout per hop (wrangler.toml max_batch_timeout), which dominates the difference.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { startReceiver } from "../scripts/webhook-receiver.ts";
import { api, createUser, logAndDeliver, percentile, round, sleep, startWorker, until } from "./lib.ts";

export interface WebhookBenchOptions {
  history: number;
  changes: number;
  latencySamples: number;
}

const DAY = 86_400_000;

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted.at(-1) ?? Number.NaN) };
};

interface View { backfill: { state: string }; last_sync_at: string | null }

export async function benchWebhooks(options: WebhookBenchOptions) {
  const fake = new FakeHevy({ seed: 11 });
  const server = await startFakeHevyServer({ fake, host: "127.0.0.1" });
  const receiver = await startReceiver();
  const worker = await startWorker(server.url, { vars: { ALLOW_INSECURE_WEBHOOK_URLS: "true" } });
  try {
    /** A user connected to their own fake Hevy account with `history` workouts, backfilled; `listen`: an endpoint first. */
    const user = async (name: string, listen: boolean) => {
      const account = fake.createAccount({ name });
      fake.generateHistory(account.apiKey, options.history, { seed: 11, end: new Date(Date.now() - 30 * DAY) });
      const token = await createUser(worker, `bench-webhooks-${name}@example.com`);
      if (listen) {
        const created = await api<{ secret: string }>(worker.url, "/api/v1/webhook-endpoints", { method: "POST", token, json: { url: receiver.url } });
        if (created.status !== 201) throw new Error(`endpoint: ${created.status} ${JSON.stringify(created.body)}`);
        receiver.secret = created.body.secret;
      }
      const put = await api<unknown>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
      if (put.status !== 202) throw new Error(`connect: ${put.status}`);
      await until(`${name}'s backfill`, async () => (await api<View>(worker.url, "/api/v1/connections/hevy", { token })).body.backfill.state === "done", 10 * 60_000);
      return { apiKey: account.apiKey, token };
    };
    const listening = await user("listening", true);
    const silent = await user("silent", false);
    await until("hevy.backfill.completed", () => receiver.received.some((r) => r.type === "hevy.backfill.completed"), 60_000);
    const announcedBackfill = receiver.received.length;

    /** Edits `changes` workouts in Hevy, syncs, and times the delta to its last_sync_at. */
    const delta = async (u: { apiKey: string; token: string }) => {
      for (const w of fake.listWorkouts(u.apiKey).slice(0, options.changes)) fake.putWorkout(u.apiKey, { ...w, title: `${w.title} (edited)` });
      const view = async () => (await api<View>(worker.url, "/api/v1/connections/hevy", { token: u.token })).body.last_sync_at;
      const before = await view();
      const start = performance.now();
      const sync = await api<unknown>(worker.url, "/api/v1/connections/hevy/sync", { method: "POST", token: u.token });
      if (sync.status !== 202) throw new Error(`sync: ${sync.status}`);
      await until("the delta", async () => (await view()) !== before, 10 * 60_000);
      return { start, seconds: (performance.now() - start) / 1000 };
    };

    // 1. The same delta without and with listeners, one after the other on one Worker.
    const withoutListener = await delta(silent);
    const deliveredBefore = receiver.received.length;
    const withListener = await delta(listening);
    await until(`${options.changes} deliveries`, () => receiver.received.length - deliveredBefore >= options.changes, 10 * 60_000);
    const batch = receiver.received.slice(deliveredBefore);
    const last = Math.max(...batch.map((r) => r.at));
    const first = Math.min(...batch.map((r) => r.at));

    // 2. Hevy's webhook → readable through the API, and → the consumer, in the same polling loop.
    const stored: number[] = [];
    const delivered: number[] = [];
    for (let i = 0; i < options.latencySamples; i++) {
      const start = performance.now();
      const { id, failure } = await logAndDeliver(fake, listening.apiKey);
      if (failure) throw new Error(`Hevy's webhook was refused: ${failure}`);
      let storedAt: number | null = null;
      let deliveredAt: number | null = null;
      await until(`the workout ${id}`, async () => {
        if (storedAt === null && (await api<unknown>(worker.url, `/api/v1/workouts/hevy/${id}`, { token: listening.token })).status === 200) storedAt = performance.now();
        if (deliveredAt === null && receiver.received.some((r) => r.type === "hevy.workout.created" && (r.data as { id: string }).id === id)) deliveredAt = performance.now();
        return storedAt !== null && deliveredAt !== null;
      }, 60_000);
      stored.push(storedAt! - start);
      delivered.push(deliveredAt! - start);
    }

    await sleep(1_000);
    return {
      options,
      backfill: { announced: announcedBackfill, types: [...new Set(receiver.received.slice(0, announcedBackfill).map((r) => r.type))] },
      delta: {
        secondsWithoutListener: round(withoutListener.seconds),
        secondsWithListener: round(withListener.seconds),
        outboxRatio: round(withListener.seconds / withoutListener.seconds),
        deliveries: batch.length,
        updatedEvents: batch.filter((r) => r.type === "hevy.workout.updated").length,
        secondsFromSyncToLastDelivery: round((last - withListener.start) / 1000),
        eventsPerSecondFromSync: round(batch.length / ((last - withListener.start) / 1000), 1),
        eventsPerSecondWhileDelivering: round(batch.length / Math.max(0.001, (last - first) / 1000), 1),
      },
      latencyMs: {
        samples: stored.length,
        storedAndReadable: stats(stored),
        deliveredToConsumer: stats(delivered),
        deliveryAfterStore: stats(delivered.map((d, i) => d - stored[i]!)),
      },
      repeats: receiver.received.filter((r) => r.repeat).length,
      rejectedSignatures: receiver.rejected,
    };
  } finally {
    await worker.stop();
    await receiver.close();
    await server.close();
  }
}
