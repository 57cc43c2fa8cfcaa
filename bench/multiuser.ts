// Many users over the shards (SPEC §12, issue 14): `users` users are created through the admin
// API (placed on the emptiest shard), connected to their own fake Hevy account and backfilled
// through the real queue; then concurrent clients mix reads (workouts, unified feed, summary,
// connection view) and Hevy webhook deliveries over all of them, bounded by a request count and
// a duration. The same run is made on a Worker with one shard and with every shard of
// wrangler.toml, one after the other, so the two are compared on the same machine and load.
// Reported per layout: throughput, p50/p95 per route, errors (the bar is zero), and whether every
// workout a webhook announced got stored.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, checkedGet, createUser, drive, logAndDeliver, mixPicker, percentile, round, sleep, startWorker, type WorkerUnderTest } from "./lib.ts";

export interface MultiUserOptions {
  users: number;
  workoutsPerUser: number;
  requests: number;
  seconds: number;
  concurrency: number;
  /** Shard counts to run, in order (e.g. [1, 2]). */
  layouts: number[];
}

interface RouteStats { requests: number; errors: number; ms: { p50: number; p95: number } }

export interface LayoutResult {
  shards: number;
  usersPerShard: number[];
  seedSeconds: number;
  seconds: number;
  requests: number;
  errors: number;
  perSecond: number;
  routes: Record<string, RouteStats>;
  errorSamples: string[];
  webhooks: { delivered: number; missing: number };
}

const MIX: Array<[kind: string, weight: number]> = [["workouts", 25], ["unified", 20], ["summary", 15], ["connection", 10], ["webhook", 30]];
const DAY = 86_400_000;

export async function benchMultiUser(options: MultiUserOptions): Promise<{ options: MultiUserOptions; layouts: LayoutResult[] }> {
  const layouts: LayoutResult[] = [];
  for (const shards of options.layouts) layouts.push(await runLayout(options, shards));
  return { options, layouts };
}

interface Seeded { token: string; apiKey: string }

async function runLayout(options: MultiUserOptions, shards: number): Promise<LayoutResult> {
  const fake = new FakeHevy({ seed: 21 });
  const server = await startFakeHevyServer({ fake, host: "127.0.0.1" });
  const worker = await startWorker(server.url, { shards });
  try {
    const seedStart = performance.now();
    const users: Seeded[] = [];
    for (let i = 0; i < options.users; i++) {
      const account = fake.createAccount({ name: `User ${i}` });
      fake.generateHistory(account.apiKey, options.workoutsPerUser, { seed: i, end: new Date(Date.now() - DAY) });
      users.push({ token: await createUser(worker, `multi-${shards}-${i}@example.com`), apiKey: account.apiKey });
    }
    await inBatches(users, 8, async (u) => {
      const put = await api(worker.url, "/api/v1/connections/hevy", { method: "PUT", token: u.token, json: { api_key: u.apiKey } });
      if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    });
    await inBatches(users, 8, (u) => waitForBackfill(worker, u.token, seedStart));
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const usersPerShard = Array.from({ length: shards }, () => 0);
    for (const row of worker.sql<{ shard: number; n: number }>("SELECT shard, count(*) AS n FROM users WHERE shard IS NOT NULL GROUP BY shard")) usersPerShard[row.shard] = row.n;

    const announced: Array<{ user: Seeded; id: string }> = [];
    const run = async (kind: string, user: Seeded): Promise<string | null> => {
      const get = (path: string, check: (body: any) => boolean) => checkedGet(worker.url, user.token, path, check);
      switch (kind) {
        case "workouts": return get("/api/v1/workouts/hevy?limit=20", (b) => b.data?.length === 20);
        case "unified": return get("/api/v1/workouts/unified?limit=20", (b) => b.data?.length === 20);
        case "summary": return get("/api/v1/hevy/summary?weeks=12", (b) => b.weeks?.length === 12);
        case "connection": return get("/api/v1/connections/hevy", (b) => b.status === "active" && b.backfill?.state === "done");
        case "webhook": {
          const { id, failure } = await logAndDeliver(fake, user.apiKey);
          announced.push({ user, id });
          return failure;
        }
        default: throw new Error(kind);
      }
    };

    const pick = mixPicker(MIX);
    const driven = await drive(options, MIX.map(([k]) => k), (i) => {
      const kind = pick(i);
      const user = users[(i * 7919) % users.length]!; // every user, spread over the run
      return { kind, call: () => run(kind, user) };
    });
    const { samples, errors, errorSamples, seconds } = driven;

    // Every announced workout must be stored, read back through each user's API.
    let missing = announced.length;
    const readBackStart = performance.now();
    while (performance.now() - readBackStart < 180_000) {
      missing = 0;
      for (const user of new Set(announced.map((a) => a.user))) {
        const ids = new Set<string>();
        let after: string | null = null;
        do {
          const page: { status: number; body: { data: Array<{ id: string }>; next_cursor: string | null } } = await api(worker.url,
            `/api/v1/workouts/hevy?limit=100${after ? `&cursor=${encodeURIComponent(after)}` : ""}`, { token: user.token });
          if (page.status !== 200) throw new Error(`read back: ${page.status}`);
          for (const w of page.body.data) ids.add(w.id);
          after = page.body.next_cursor;
        } while (after);
        missing += announced.filter((a) => a.user === user && !ids.has(a.id)).length;
      }
      if (missing === 0) break;
      await sleep(1000);
    }

    const routes: Record<string, RouteStats> = {};
    for (const [kind, times] of samples) {
      const sorted = [...times].sort((a, b) => a - b);
      routes[kind] = { requests: times.length, errors: errors.get(kind)!, ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)) } };
    }
    const requests = [...samples.values()].reduce((n, s) => n + s.length, 0);
    return {
      shards,
      usersPerShard,
      seedSeconds: round(seedSeconds),
      seconds: round(seconds),
      requests,
      errors: [...errors.values()].reduce((a, b) => a + b, 0),
      perSecond: round(requests / seconds, 1),
      routes,
      errorSamples,
      webhooks: { delivered: announced.length, missing },
    };
  } finally {
    await worker.stop();
    await server.close();
  }
}

async function waitForBackfill(worker: WorkerUnderTest, token: string, since: number) {
  for (;;) {
    const view = (await api<{ backfill: { state: string }; last_error: string | null }>(worker.url, "/api/v1/connections/hevy", { token })).body;
    if (view.backfill.state === "done") return;
    if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
    if (performance.now() - since > 20 * 60_000) throw new Error("backfills did not finish in 20 minutes");
    await sleep(250);
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
