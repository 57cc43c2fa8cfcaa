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
import { api, createUser, percentile, round, startWorker, type WorkerUnderTest } from "./lib.ts";

export interface SummarySize {
  workouts: number;
  sets: number;
  /** Client-side latency of GET /api/v1/hevy/summary, after one warm-up request. */
  ms: { p50: number; p95: number; max: number; first: number };
  /** The same for GET /api/v1/hevy/trends (no set is read). */
  trendsMs: { p50: number; p95: number };
  /** The hub page (GET /hevy, server-rendered from the summary), with a page session. */
  hubMs: { p50: number; p95: number };
  seedSeconds: number;
}

export interface SummaryResult {
  weeks: number;
  requests: number;
  sizes: SummarySize[];
  /** p50 at the largest size over p50 at the smallest, same run, requests interleaved. */
  ratio: number;
}

interface Connection {
  backfill: { state: string; workouts_synced: number };
  last_error: string | null;
}

/** A page session for `token`: the login form's CSRF cookie and field, then the session cookie. */
export async function login(baseUrl: string, token: string): Promise<string> {
  const form = await fetch(`${baseUrl}/login`);
  const csrfCookie = form.headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error("login form without a CSRF field");
  const res = await fetch(`${baseUrl}/login`, {
    method: "POST", redirect: "manual",
    headers: { cookie: csrfCookie, "content-type": "application/x-www-form-urlencoded", origin: baseUrl },
    body: new URLSearchParams({ token, _csrf: csrf }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(";")[0]!).find((c) => c.startsWith("vt_session="));
  if (res.status !== 303 || !session) throw new Error(`login: ${res.status}`);
  return session;
}

export async function seed(worker: WorkerUnderTest, fake: FakeHevy, workouts: number) {
  const workerUrl = worker.url;
  const account = fake.createAccount({ name: `Bench ${workouts}` });
  fake.generateHistory(account.apiKey, workouts, { seed: 42 });
  const sets = fake.listWorkouts(account.apiKey).reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
  const token = await createUser(worker, `bench-summary-${workouts}-${Date.now()}@example.com`);
  const seedStart = performance.now();
  const put = await api<Connection>(workerUrl, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
  if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
  let view = put.body;
  while (view.backfill.state !== "done") {
    if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
    if (performance.now() - seedStart > 15 * 60_000) throw new Error("backfill did not finish in 15 minutes");
    await new Promise((r) => setTimeout(r, 250));
    view = (await api<Connection>(workerUrl, "/api/v1/connections/hevy", { token })).body;
  }
  if (view.backfill.workouts_synced !== workouts) throw new Error(`stored ${view.backfill.workouts_synced} of ${workouts}`);
  for (const source of ["whoop", "oura"]) {
    const items = Array.from({ length: 365 }, (_, d) => ({
      date: new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10),
      score: 40 + ((d * 37) % 55),
    }));
    const res = await api(workerUrl, `/api/v1/recovery/${source}`, { method: "PUT", token, json: { items } });
    if (res.status !== 200) throw new Error(`recovery: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { workouts, sets, token, cookie: await login(workerUrl, token), seedSeconds: (performance.now() - seedStart) / 1000 };
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const stats = (times: number[]) => {
  const sorted = times.slice(1).sort((a, b) => a - b); // the first request is a warm-up
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted.at(-1)!), first: round(times[0]!) };
};

/**
 * One Worker, one user per size, backfilled from the fake Hevy; then the sizes' requests are
 * interleaved (summary, trends, hub page, for each size in turn), so they meet the same machine load.
 */
export async function benchSummary(sizes: number[], requests: number, weeks = 12): Promise<SummaryResult> {
  const fake = new FakeHevy({ seed: 42 });
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url);
  try {
    const users = [];
    for (const workouts of sizes) users.push(await seed(worker, fake, workouts));
    const times = users.map(() => ({ summary: [] as number[], trends: [] as number[], hub: [] as number[] }));
    for (let i = 0; i <= requests; i++) {
      for (const [u, user] of users.entries()) {
        times[u]!.summary.push(await time(async () => {
          const res = await api<{ weeks?: unknown[]; prs?: unknown[] }>(`${worker.url}/api/v1/hevy/summary?weeks=${weeks}`, "", { token: user.token });
          if (res.status !== 200 || res.body.weeks?.length !== weeks || !res.body.prs?.length) throw new Error(`summary: ${res.status}`);
        }));
        times[u]!.trends.push(await time(async () => {
          const res = await api(`${worker.url}/api/v1/hevy/trends?weeks=${weeks}`, "", { token: user.token });
          if (res.status !== 200) throw new Error(`trends: ${res.status}`);
        }));
        times[u]!.hub.push(await time(async () => {
          const res = await fetch(`${worker.url}/hevy`, { headers: { cookie: user.cookie } });
          const html = await res.text();
          if (res.status !== 200 || !html.includes("<svg")) throw new Error(`hub: ${res.status}`);
        }));
      }
    }
    const result = users.map((user, u): SummarySize => {
      const trends = stats(times[u]!.trends);
      const hub = stats(times[u]!.hub);
      return {
        workouts: user.workouts, sets: user.sets, ms: stats(times[u]!.summary),
        trendsMs: { p50: trends.p50, p95: trends.p95 }, hubMs: { p50: hub.p50, p95: hub.p95 }, seedSeconds: round(user.seedSeconds),
      };
    });
    return { weeks, requests, sizes: result, ratio: round(result.at(-1)!.ms.p50 / result[0]!.ms.p50) };
  } finally {
    await worker.stop();
    await server.close();
  }
}
