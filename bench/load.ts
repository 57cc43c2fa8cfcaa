// Load run: concurrent API reads and Hevy webhook deliveries against `wrangler dev` on
// loopback (127.0.0.1 only), bounded by a request count and a duration, whichever
// comes first. Reports throughput, p50/p95/p99/max and errors per kind; zero errors
// is the bar. Afterwards every workout announced by a webhook must be stored (the
// queued fetches drain through the real consumer against the fake Hevy).
//
// Seeding goes through the API, the way users get their data: the user connects to
// the fake Hevy (served over local HTTP) and the real backfill stores the history;
// Apple Health workouts (a third of them strength twins that merge into a Hevy one)
// and WHOOP/Oura scores are PUT through the sources and recovery routes.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, checkedGet, createUser, drive, logAndDeliver, mixPicker, percentile, round, sleep, startWorker } from "./lib.ts";

export interface LoadOptions {
  workouts: number;
  /** Upper bounds: the run stops at whichever is reached first. */
  requests: number;
  seconds: number;
  /** Requests in flight at once. */
  concurrency: number;
}

interface KindStats { requests: number; errors: number; perSecond: number; ms: { p50: number; p95: number; p99: number; max: number } }

export interface LoadResult {
  options: LoadOptions;
  seedSeconds: number;
  seconds: number;
  requests: number;
  errors: number;
  perSecond: number;
  kinds: Record<string, KindStats>;
  /** Samples of what failed (status and the start of the body), at most 10. */
  errorSamples: string[];
  /** Workouts announced by webhook during the run, how many never got stored, and how long after the load the last one was. */
  webhooks: { delivered: number; missing: number; allStoredSecondsAfterLoad: number | null };
}

interface View { backfill: { state: string; workouts_synced: number }; webhook: { status: string }; last_error: string | null }

/** The mix of one virtual user's requests, by weight. */
const MIX: Array<[kind: string, weight: number]> = [
  ["workouts", 25], ["workouts_next_page", 10], ["unified", 20], ["summary", 10], ["connection", 10], ["webhook", 25],
];

const DAY = 86_400_000;

export async function benchLoad(options: LoadOptions): Promise<LoadResult> {
  const fake = new FakeHevy({ seed: 7 });
  const account = fake.createAccount({ name: "Load" });
  fake.generateHistory(account.apiKey, options.workouts, { seed: 7, end: new Date(Date.now() - DAY) });
  const server = await startFakeHevyServer({ fake, host: "127.0.0.1" });
  const worker = await startWorker(server.url);
  try {
    const seedStart = performance.now();
    const token = await createUser(worker, `bench-load-${options.workouts}@example.com`);
    const put = await api<View>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    let view = put.body;
    while (view.backfill.state !== "done") {
      if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
      if (performance.now() - seedStart > 10 * 60_000) throw new Error("backfill did not finish in 10 minutes");
      await sleep(200);
      view = (await api<View>(worker.url, "/api/v1/connections/hevy", { token })).body;
    }
    if (view.webhook.status !== "subscribed") throw new Error(`webhook ${view.webhook.status}: deliveries would be refused`);
    await seedOtherSources(worker.url, token, fake.listWorkouts(account.apiKey));
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const firstPage = await api<{ next_cursor: string | null }>(worker.url, "/api/v1/workouts/hevy?limit=20", { token });
    const cursor = firstPage.body.next_cursor;
    if (!cursor) throw new Error("need more than one page of workouts");

    // One request of a kind: [ok, error description].
    const announced: string[] = [];
    const run = async (kind: string): Promise<string | null> => {
      const get = (path: string, check: (body: any) => boolean) => checkedGet(worker.url, token, path, check);
      switch (kind) {
        case "workouts": return get("/api/v1/workouts/hevy?limit=20", (b) => b.data?.length === 20);
        case "workouts_next_page": return get(`/api/v1/workouts/hevy?limit=20&cursor=${encodeURIComponent(cursor)}`, (b) => b.data?.length > 0);
        case "unified": return get("/api/v1/workouts/unified?limit=50", (b) => b.data?.length === 50);
        case "summary": return get("/api/v1/hevy/summary?weeks=12", (b) => b.weeks?.length === 12);
        case "connection": return get("/api/v1/connections/hevy", (b) => b.status === "active" && b.backfill?.state === "done");
        case "webhook": {
          const { id, failure } = await logAndDeliver(fake, account.apiKey);
          announced.push(id);
          return failure;
        }
        default: throw new Error(kind);
      }
    };

    const pick = mixPicker(MIX);
    const start = performance.now();
    const { samples, errors, errorSamples, seconds } = await drive(options, MIX.map(([k]) => k), (i) => {
      const kind = pick(i);
      return { kind, call: () => run(kind) };
    });

    // Every announced workout must land: the queued fetches keep draining after the load stops.
    // Read back through the API (updated_since = the run's start), not from D1 behind the Worker.
    const loadEnd = performance.now();
    const since = new Date(Date.now() - (loadEnd - start) - 60_000).toISOString();
    let missing = announced.length;
    while (performance.now() - loadEnd < 120_000) {
      const seen = new Set<string>();
      let after: string | null = null;
      do {
        const page: { status: number; body: { data: Array<{ id: string }>; next_cursor: string | null } } = await api(worker.url,
          `/api/v1/workouts/hevy?limit=100&updated_since=${encodeURIComponent(since)}${after ? `&cursor=${encodeURIComponent(after)}` : ""}`, { token });
        if (page.status !== 200) throw new Error(`read back: ${page.status}`);
        for (const w of page.body.data) seen.add(w.id);
        after = page.body.next_cursor;
      } while (after);
      missing = announced.filter((id) => !seen.has(id)).length;
      if (missing === 0) break;
      await sleep(500);
    }

    const kinds: Record<string, KindStats> = {};
    for (const [kind, times] of samples) {
      const sorted = [...times].sort((a, b) => a - b);
      kinds[kind] = {
        requests: times.length,
        errors: errors.get(kind)!,
        perSecond: round(times.length / seconds, 1),
        ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? Number.NaN) },
      };
    }
    const requests = [...samples.values()].reduce((n, s) => n + s.length, 0);
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    return {
      options,
      seedSeconds: round(seedSeconds),
      seconds: round(seconds),
      requests,
      errors: errorCount,
      perSecond: round(requests / seconds, 1),
      kinds,
      errorSamples,
      webhooks: { delivered: announced.length, missing, allStoredSecondsAfterLoad: missing === 0 ? round((performance.now() - loadEnd) / 1000) : null },
    };
  } finally {
    await worker.stop();
    await server.close();
  }
}

/** Apple Health workouts (every third a strength twin of a Hevy session, 40 s later), WHOOP and Oura scores. */
async function seedOtherSources(url: string, token: string, hevy: Array<{ start_time: string; end_time: string }>) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const items = hevy.slice(0, 500).map((w, i) => {
    const start = Date.parse(w.start_time);
    return i % 3 === 0
      ? { external_id: `ah-${i}`, activity_type: "traditional_strength_training", start_time: iso(start + 40_000), end_time: iso(Date.parse(w.end_time) + 60_000), calories_kcal: 300 + i, avg_hr_bpm: 115, max_hr_bpm: 160 }
      : { external_id: `ah-${i}`, activity_type: "walking", start_time: iso(start - 3 * 3_600_000), end_time: iso(start - 2.5 * 3_600_000), calories_kcal: 120 };
  });
  const res = await api(url, "/api/v1/sources/apple_health/workouts", { method: "PUT", token, json: { items } });
  if (res.status !== 200) throw new Error(`apple health: ${res.status} ${JSON.stringify(res.body)}`);
  for (const source of ["whoop", "oura"]) {
    const scores = Array.from({ length: 120 }, (_, d) => ({ date: iso(Date.now() - d * DAY).slice(0, 10), score: 40 + ((d * 37) % 55) }));
    const r = await api(url, `/api/v1/recovery/${source}`, { method: "PUT", token, json: { items: scores } });
    if (r.status !== 200) throw new Error(`${source}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}
