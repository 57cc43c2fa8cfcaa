// Page benchmark (issue 15): the time each server-rendered page takes at 2,000 and 10,000
// workouts, under `wrangler dev`, from the client on loopback. One Worker, one user per size
// (backfilled from the fake Hevy, as bench/summary.ts seeds them), the sizes' requests
// interleaved page by page so they meet the same machine load; the first request of each page is
// a warm-up.
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { percentile, round, startWorker } from "./lib.ts";
import { seed } from "./summary.ts";

export interface PagesResult {
  requests: number;
  sizes: Array<{ workouts: number; pages: Record<string, { p50: number; p95: number }> }>;
}

export async function benchPages(sizes: number[], requests: number): Promise<PagesResult> {
  const fake = new FakeHevy({ seed: 42 });
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url);
  try {
    const users = [];
    for (const workouts of sizes) {
      const user = await seed(worker, fake, workouts);
      const get = (path: string) => fetch(`${worker.url}${path}`, { headers: { cookie: user.cookie } });
      const feed = await (await get("/workouts")).text();
      const workoutPath = /href="(\/workouts\/hevy\/[^"]+)"/.exec(feed)?.[1];
      const olderPath = /<a href="([^"]+)" rel="next"/.exec(feed)?.[1]?.replace(/&amp;/g, "&");
      const hub = await (await get("/hevy")).text();
      const exercisePath = /href="(\/hevy\/exercises\/[^"]+)"/.exec(hub)?.[1];
      if (!workoutPath || !olderPath || !exercisePath) throw new Error("the pages do not link where the benchmark goes");
      const paths: Record<string, string> = {
        hub: "/hevy?weeks=12", feed: "/workouts", feed_older: olderPath, workout: workoutPath, exercise: exercisePath, connection: "/connections/hevy",
      };
      users.push({ workouts, get, paths, times: Object.fromEntries(Object.keys(paths).map((k) => [k, [] as number[]])) });
    }
    for (let i = 0; i <= requests; i++) {
      for (const user of users) {
        for (const [name, path] of Object.entries(user.paths)) {
          const start = performance.now();
          const res = await user.get(path);
          await res.text();
          if (res.status !== 200) throw new Error(`${name} ${path}: ${res.status}`);
          user.times[name]!.push(performance.now() - start);
        }
      }
    }
    return {
      requests,
      sizes: users.map((u) => ({
        workouts: u.workouts,
        pages: Object.fromEntries(Object.entries(u.times).map(([name, times]) => {
          const sorted = times.slice(1).sort((a, b) => a - b);
          return [name, { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)) }];
        })),
      })),
    };
  } finally {
    await worker.stop();
    await server.close();
  }
}
