// Summary benchmark: GET /api/v1/hevy/summary for a user with a large history,
// under `wrangler dev`, timed from the client.
//
// Seeding goes through the API, the way users get a history: connect to the fake
// Hevy (served over local HTTP, no latency) and let the backfill store every
// workout, exercise, set and template; then a year of WHOOP and Oura scores
// through PUT /api/v1/recovery/{source}. Writing a large SQL file into local D1
// with `wrangler d1 execute` while `wrangler dev` holds the database killed the
// dev server (bench/export.ts saw the same).
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, createUser, percentile, round, startWorker } from "./lib.ts";

export interface SummaryResult {
  workouts: number;
  sets: number;
  weeks: number;
  requests: number;
  /** Client-side latency of GET /api/v1/hevy/summary, after one warm-up request. */
  ms: { p50: number; p95: number; max: number; first: number };
  /** The same for GET /api/v1/hevy/trends (no set is read), to show what the PR and rollup statements add. */
  trendsMs: { p50: number; p95: number };
  seedSeconds: number;
}

interface Connection {
  backfill: { state: string; workouts_synced: number };
  last_error: string | null;
}

async function timed(url: string, token: string, requests: number, check: (status: number, body: unknown) => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const res = await api<unknown>(url, "", { token });
    times.push(performance.now() - start);
    check(res.status, res.body);
  }
  return times;
}

export async function benchSummary(workouts: number, requests: number, weeks = 12): Promise<SummaryResult> {
  const fake = new FakeHevy({ seed: 42 });
  const account = fake.createAccount({ name: "Bench" });
  fake.generateHistory(account.apiKey, workouts, { seed: 42 });
  const sets = fake.listWorkouts(account.apiKey).reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url);
  try {
    const token = await createUser(worker, `bench-summary-${workouts}@example.com`);
    const seedStart = performance.now();
    const put = await api<Connection>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    let view = put.body;
    while (view.backfill.state !== "done") {
      if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
      if (performance.now() - seedStart > 15 * 60_000) throw new Error("backfill did not finish in 15 minutes");
      await new Promise((r) => setTimeout(r, 250));
      view = (await api<Connection>(worker.url, "/api/v1/connections/hevy", { token })).body;
    }
    if (view.backfill.workouts_synced !== workouts) throw new Error(`stored ${view.backfill.workouts_synced} of ${workouts}`);
    for (const source of ["whoop", "oura"]) {
      const items = Array.from({ length: 365 }, (_, d) => ({
        date: new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10),
        score: 40 + ((d * 37) % 55),
      }));
      const res = await api(worker.url, `/api/v1/recovery/${source}`, { method: "PUT", token, json: { items } });
      if (res.status !== 200) throw new Error(`recovery: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const summaryUrl = `${worker.url}/api/v1/hevy/summary?weeks=${weeks}`;
    const summary = await timed(summaryUrl, token, requests + 1, (status, body) => {
      const b = body as { weeks?: unknown[]; prs?: unknown[] };
      if (status !== 200 || b.weeks?.length !== weeks || !b.prs?.length) throw new Error(`summary: ${status} ${JSON.stringify(body).slice(0, 500)}`);
    });
    const trends = await timed(`${worker.url}/api/v1/hevy/trends?weeks=${weeks}`, token, requests + 1, (status) => {
      if (status !== 200) throw new Error(`trends: ${status}`);
    });
    const sorted = summary.slice(1).sort((a, b) => a - b);
    const sortedTrends = trends.slice(1).sort((a, b) => a - b);
    return {
      workouts,
      sets,
      weeks,
      requests,
      ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted.at(-1)!), first: round(summary[0]!) },
      trendsMs: { p50: round(percentile(sortedTrends, 50)), p95: round(percentile(sortedTrends, 95)) },
      seedSeconds: round(seedSeconds),
    };
  } finally {
    await worker.stop();
    await server.close();
  }
}
