// Outgoing webhooks (SPEC §15) end to end on loopback: the Worker under `wrangler dev`, the fake
// Hevy over HTTP, and a consumer endpoint (scripts/webhook-receiver.ts) that verifies every
// signature with the `standardwebhooks` package.
//
// 1. Throughput: Hevy reports `changes` changed workouts; one delta stores them and announces each
//    (hevy.workout.updated), and the deliveries drain through WEBHOOK_QUEUE. Reports events per
//    second from the sync request to the last delivery, and between the first and last delivery.
// 2. Latency: a workout logged in Hevy, Hevy's webhook to the Worker, the fetch job, the outbox,
//    the delivery: the time from Hevy's webhook to the consumer receiving hevy.workout.created,
//    `latencySamples` times one after the other (p50/p95). Local queues batch with a 1 s timeout
//    per hop (wrangler.toml max_batch_timeout), which dominates these figures.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { startReceiver } from "../scripts/webhook-receiver.ts";
import { api, createUser, logAndDeliver, percentile, round, startWorker } from "./lib.ts";

export interface WebhookBenchOptions {
  history: number;
  changes: number;
  latencySamples: number;
}

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function benchWebhooks(options: WebhookBenchOptions) {
  const fake = new FakeHevy({ seed: 11 });
  const account = fake.createAccount({ name: "Webhooks" });
  fake.generateHistory(account.apiKey, options.history, { seed: 11, end: new Date(Date.now() - 30 * DAY) });
  const server = await startFakeHevyServer({ fake, host: "127.0.0.1" });
  const receiver = await startReceiver();
  const worker = await startWorker(server.url, { vars: { ALLOW_INSECURE_WEBHOOK_URLS: "true" } });
  try {
    const token = await createUser(worker, "bench-webhooks@example.com");
    const created = await api<{ secret: string }>(worker.url, "/api/v1/webhook-endpoints", { method: "POST", token, json: { url: receiver.url } });
    if (created.status !== 201) throw new Error(`endpoint: ${created.status} ${JSON.stringify(created.body)}`);
    receiver.secret = created.body.secret;

    const put = await api<unknown>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status}`);
    await until("hevy.backfill.completed", () => receiver.received.some((r) => r.type === "hevy.backfill.completed"), 10 * 60_000);
    const announcedBackfill = receiver.received.length;

    // 1. A delta of `changes` changed workouts.
    const workouts = fake.listWorkouts(account.apiKey).slice(0, options.changes);
    if (workouts.length < options.changes) throw new Error(`history has ${workouts.length} workouts, need ${options.changes}`);
    for (const w of workouts) fake.putWorkout(account.apiKey, { ...w, title: `${w.title} (edited)` });
    const before = receiver.received.length;
    const syncAt = performance.now();
    const sync = await api<unknown>(worker.url, "/api/v1/connections/hevy/sync", { method: "POST", token });
    if (sync.status !== 202) throw new Error(`sync: ${sync.status}`);
    await until(`${options.changes} deliveries`, () => receiver.received.length - before >= options.changes, 10 * 60_000);
    const batch = receiver.received.slice(before);
    const first = Math.min(...batch.map((r) => r.at));
    const last = Math.max(...batch.map((r) => r.at));
    const updated = batch.filter((r) => r.type === "hevy.workout.updated").length;

    // 2. Hevy's webhook → the consumer, one workout at a time.
    const delays: number[] = [];
    for (let i = 0; i < options.latencySamples; i++) {
      const start = performance.now();
      const { id, failure } = await logAndDeliver(fake, account.apiKey);
      if (failure) throw new Error(`Hevy's webhook was refused: ${failure}`);
      await until(`the event of ${id}`, () => receiver.received.some((r) => r.type === "hevy.workout.created" && (r.data as { id: string }).id === id), 60_000);
      delays.push(receiver.received.find((r) => (r.data as { id: string }).id === id)!.at - start);
    }
    delays.sort((a, b) => a - b);

    // Every event once: no repeats (nothing failed), nothing refused by the verifier.
    await sleep(1_000);
    return {
      options,
      backfill: { announced: announcedBackfill, types: [...new Set(receiver.received.slice(0, announcedBackfill).map((r) => r.type))] },
      delta: {
        deliveries: batch.length,
        updatedEvents: updated,
        secondsFromSyncToLastDelivery: round((last - syncAt) / 1000),
        eventsPerSecondFromSync: round(batch.length / ((last - syncAt) / 1000), 1),
        eventsPerSecondWhileDelivering: round(batch.length / Math.max(0.001, (last - first) / 1000), 1),
      },
      latencyMs: { samples: delays.length, p50: round(percentile(delays, 50)), p95: round(percentile(delays, 95)), max: round(delays.at(-1) ?? Number.NaN) },
      repeats: receiver.received.filter((r) => r.repeat).length,
      rejectedSignatures: receiver.rejected,
    };
  } finally {
    await worker.stop();
    await receiver.close();
    await server.close();
  }
}
