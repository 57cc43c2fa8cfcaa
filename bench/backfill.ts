// Backfill benchmark: the Worker under `wrangler dev` backfills a history from the
// fake Hevy served over local HTTP; a plain sequential client downloads the same
// pages from the same fake in the same run, giving the I/O floor to compare with.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, createUser, round, startWorker } from "./lib.ts";

export interface BackfillResult {
  workouts: number;
  latencyMs: number;
  workoutPages: number;
  templatePages: number;
  backfillSeconds: number;
  workoutsPerSecond: number;
  ioFloorSeconds: number;
  ratioToFloor: number;
  /** backfill: what the queue consumer asked Hevy; minimum: workout pages + template pages + 1; connect: the key check and the webhook subscription. */
  hevyRequests: { backfill: number; minimum: number; connect: number; byPath: Record<string, number> };
  d1RoundTripsPerPage: number;
  /** Seconds per workout page over the first and the last quarter of the pages (flat = no growth with history size). */
  secondsPerPage: { firstQuarter: number; lastQuarter: number };
}

interface View {
  backfill: { state: string; pages_done: number; page_count: number | null; workouts_synced: number };
  last_error: string | null;
}

export async function benchBackfill(workouts: number, latencyMs: number): Promise<BackfillResult> {
  const fake = new FakeHevy({ seed: 42 });
  const account = fake.createAccount({ name: "Bench" });
  fake.generateHistory(account.apiKey, workouts, { seed: 42 });
  const workoutPages = Math.ceil(workouts / 10);
  const templatePages = Math.ceil(fake.listExerciseTemplates(account.apiKey).length / 100);
  fake.setLatency(latencyMs);
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url);
  try {
    // The I/O floor: one plain client, one request after another, same pages, same fake.
    const floorStart = performance.now();
    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, { headers: { "api-key": account.apiKey } });
      if (!res.ok) throw new Error(`floor: ${res.status} ${path}`);
      await res.arrayBuffer();
    };
    await get("/v1/user/info");
    for (let p = 1; p <= templatePages; p++) await get(`/v1/exercise_templates?page=${p}&pageSize=100`);
    for (let p = 1; p <= workoutPages; p++) await get(`/v1/workouts?page=${p}&pageSize=10`);
    const ioFloorSeconds = (performance.now() - floorStart) / 1000;

    const token = await createUser(worker, `bench-${workouts}@example.com`);
    fake.requests.length = 0;
    const start = performance.now();
    const put = await api<View>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    const samples: Array<{ t: number; pages: number }> = [];
    let view: View = put.body;
    while (view.backfill.state !== "done") {
      if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
      if (performance.now() - start > 15 * 60_000) throw new Error("backfill did not finish in 15 minutes");
      await new Promise((r) => setTimeout(r, 25));
      view = (await api<View>(worker.url, "/api/v1/connections/hevy", { token })).body;
      samples.push({ t: (performance.now() - start) / 1000, pages: view.backfill.pages_done });
    }
    const backfillSeconds = (performance.now() - start) / 1000;
    if (view.backfill.workouts_synced !== workouts) throw new Error(`stored ${view.backfill.workouts_synced} of ${workouts}`);

    const byPath: Record<string, number> = {};
    for (const r of fake.requests) {
      const key = r.path.startsWith("/v1/workouts/") && r.path !== "/v1/workouts/events" ? "/v1/workouts/{id}" : r.path;
      byPath[`${r.method} ${key}`] = (byPath[`${r.method} ${key}`] ?? 0) + 1;
    }
    // The backfill: template pages, workout pages, and one look at the events feed for deletions during the walk.
    const backfillRequests = (byPath["GET /v1/workouts"] ?? 0) + (byPath["GET /v1/exercise_templates"] ?? 0) + (byPath["GET /v1/workouts/events"] ?? 0);
    const connect = (byPath["GET /v1/user/info"] ?? 0) + (byPath["POST /v1/webhook-subscription"] ?? 0);
    const [run] = worker.sql<{ d1_round_trips: number }>("SELECT d1_round_trips FROM sync_runs WHERE kind = 'backfill'");

    const at = (pages: number) => samples.find((s) => s.pages >= pages)?.t ?? backfillSeconds;
    const quarter = Math.max(1, Math.floor(workoutPages / 4));
    return {
      workouts,
      latencyMs,
      workoutPages,
      templatePages,
      backfillSeconds: round(backfillSeconds),
      workoutsPerSecond: round(workouts / backfillSeconds, 1),
      ioFloorSeconds: round(ioFloorSeconds),
      ratioToFloor: round(backfillSeconds / ioFloorSeconds),
      hevyRequests: { backfill: backfillRequests, minimum: workoutPages + templatePages + 1, connect, byPath },
      d1RoundTripsPerPage: round(run!.d1_round_trips / (workoutPages + templatePages)),
      secondsPerPage: {
        firstQuarter: round((at(quarter) - at(1)) / Math.max(1, quarter - 1), 4),
        lastQuarter: round((at(workoutPages) - at(workoutPages - quarter)) / quarter, 4),
      },
    };
  } finally {
    await worker.stop();
    await server.close();
  }
}
