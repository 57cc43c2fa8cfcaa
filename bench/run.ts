// npm run bench [-- name ...]: runs the benchmarks (all by default), prints a summary
// and writes bench/results/<name>.json. Never part of `npm test`.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchBackfill } from "./backfill.ts";
import { benchExport } from "./export.ts";
import { benchLoad } from "./load.ts";
import { benchMultiUser } from "./multiuser.ts";
import { benchPages } from "./pages.ts";
import { benchStorage } from "./storage.ts";
import { benchSummary } from "./summary.ts";
import { benchUnified } from "./unified.ts";
import { benchWebhooks } from "./webhooks.ts";
import { ROOT } from "./lib.ts";

/** Runs a benchmark that lives inside the Workers runtime (bench/workers/) and returns its BENCH_RESULT line. */
function workersBench(file: string): unknown {
  const out = spawnSync("vitest", ["run", "--config", "bench/vitest.config.ts", file], { cwd: ROOT, encoding: "utf8", env: process.env });
  const line = `${out.stdout}${out.stderr}`.split("\n").find((l) => l.includes("BENCH_RESULT "));
  if (out.status !== 0 || !line) throw new Error(`${file} failed:\n${out.stdout}\n${out.stderr}`);
  return JSON.parse(line.slice(line.indexOf("BENCH_RESULT ") + "BENCH_RESULT ".length));
}

const suites: Record<string, () => Promise<unknown>> = {
  webhooks: async () => {
    // Outgoing webhooks: a delta of 1,000 changed workouts delivered, and Hevy's webhook → consumer delay.
    // A smoke run: BENCH_WEBHOOK_CHANGES=50 BENCH_WEBHOOK_SAMPLES=5.
    const changes = Number(process.env.BENCH_WEBHOOK_CHANGES ?? 1_000);
    const result = await benchWebhooks({ history: changes + 20, changes, latencySamples: Number(process.env.BENCH_WEBHOOK_SAMPLES ?? 40) });
    console.log("outgoing webhooks:", JSON.stringify(result, null, 2));
    if (result.repeats > 0 || result.rejectedSignatures > 0) console.error(`webhooks: BAR MISSED — ${result.repeats} repeats, ${result.rejectedSignatures} bad signatures`);
    return result;
  },
  d1cost: async () => {
    // SQL time per write batch and D1 time per API read (docs/SCALING.md). BENCH_D1_WORKOUTS=200 for a smoke run.
    const result = workersBench("bench/workers/d1-cost.bench-test.ts");
    console.log("D1 cost per operation:", JSON.stringify(result, null, 2));
    return result;
  },
  storage: async () => {
    // Bytes per workout/exercise/set for docs/SCALING.md. BENCH_STORAGE_WORKOUTS=200 for a quick smoke run.
    const workouts = Number(process.env.BENCH_STORAGE_WORKOUTS ?? 2_000);
    const result = await benchStorage(workouts);
    console.log(`storage footprint, ${workouts} workouts:`, JSON.stringify(result, null, 2));
    return result;
  },
  load: async () => {
    // Bounded: BENCH_LOAD_REQUESTS requests or BENCH_LOAD_SECONDS seconds, whichever first.
    // A smoke run: BENCH_LOAD_WORKOUTS=60 BENCH_LOAD_REQUESTS=200 BENCH_LOAD_SECONDS=10.
    const result = await benchLoad({
      workouts: Number(process.env.BENCH_LOAD_WORKOUTS ?? 300),
      requests: Number(process.env.BENCH_LOAD_REQUESTS ?? 5_000),
      seconds: Number(process.env.BENCH_LOAD_SECONDS ?? 30),
      concurrency: Number(process.env.BENCH_LOAD_CONCURRENCY ?? 16),
    });
    console.log("load: concurrent API reads and webhook deliveries:", JSON.stringify(result, null, 2));
    if (result.errors > 0 || result.webhooks.missing > 0) console.error(`load: BAR MISSED — ${result.errors} errors, ${result.webhooks.missing} webhook workouts not stored`);
    return result;
  },
  multiuser: async () => {
    // One shard, then every shard of wrangler.toml, same load. A smoke run: BENCH_MULTI_USERS=10 BENCH_MULTI_REQUESTS=200.
    const result = await benchMultiUser({
      users: Number(process.env.BENCH_MULTI_USERS ?? 200),
      workoutsPerUser: Number(process.env.BENCH_MULTI_WORKOUTS ?? 30),
      requests: Number(process.env.BENCH_MULTI_REQUESTS ?? 4_000),
      seconds: Number(process.env.BENCH_MULTI_SECONDS ?? 60),
      concurrency: Number(process.env.BENCH_MULTI_CONCURRENCY ?? 16),
      layouts: [1, 2],
    });
    console.log("many users over the shards: one shard, then two, same load:", JSON.stringify(result, null, 2));
    for (const l of result.layouts) {
      if (l.errors > 0 || l.webhooks.missing > 0) console.error(`multiuser (${l.shards} shard(s)): BAR MISSED — ${l.errors} errors, ${l.webhooks.missing} webhook workouts not stored`);
    }
    return result;
  },
  delta: async () => {
    const result = workersBench("bench/workers/delta.bench-test.ts");
    console.log("hourly delta over 1,000 connections (3 changes each), 50 ms per Hevy request:", JSON.stringify(result, null, 2));
    return result;
  },
  backfill: async () => {
    const withLatency = await benchBackfill(2_000, 50);
    console.log("backfill 2,000 workouts, 50 ms per Hevy request:", JSON.stringify(withLatency, null, 2));
    const large = await benchBackfill(10_000, 0);
    console.log("backfill 10,000 workouts, no latency:", JSON.stringify(large, null, 2));
    return { withLatency, large };
  },
  summary: async () => {
    // Both sizes on one Worker, requests interleaved. BENCH_SUMMARY_SIZES=100,500 for a quick smoke run.
    const sizes = (process.env.BENCH_SUMMARY_SIZES ?? "500,10000").split(",").map(Number);
    const result = await benchSummary(sizes, Number(process.env.BENCH_SUMMARY_REQUESTS ?? 50));
    console.log(`GET /api/v1/hevy/summary?weeks=12 and the hub page at ${sizes.join(" and ")} workouts:`, JSON.stringify(result, null, 2));
    return result;
  },
  pages: async () => {
    // The server-rendered pages at two history sizes. BENCH_PAGES_SIZES=200,500 for a smoke run.
    const sizes = (process.env.BENCH_PAGES_SIZES ?? "2000,10000").split(",").map(Number);
    const result = await benchPages(sizes, Number(process.env.BENCH_PAGES_REQUESTS ?? 30));
    console.log(`pages at ${sizes.join(" and ")} workouts (p50/p95 ms, loopback):`, JSON.stringify(result, null, 2));
    return result;
  },
  unified: async () => {
    // BENCH_UNIFIED_WORKOUTS=500 for a quick smoke run (that many Hevy and as many other-source workouts).
    const perSide = Number(process.env.BENCH_UNIFIED_WORKOUTS ?? 10_000);
    const result = await benchUnified(perSide, perSide);
    console.log(`GET /api/v1/workouts/unified?limit=100, ${perSide} Hevy + ${perSide} other-source workouts:`, JSON.stringify(result, null, 2));
    return result;
  },
  export: async () => {
    // A smaller export first, to compare: memory must not grow with the row count.
    // BENCH_EXPORT_WORKOUTS=200 for a quick smoke run (one size only).
    const sizes = process.env.BENCH_EXPORT_WORKOUTS ? [Number(process.env.BENCH_EXPORT_WORKOUTS)] : [2_000, 10_000];
    const runs = [];
    for (const workouts of sizes) {
      const result = await benchExport(workouts);
      console.log(`CSV export of ${workouts} workouts:`, JSON.stringify(result, null, 2));
      runs.push(result);
    }
    return runs;
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : Object.keys(suites);
const results: Record<string, unknown> = { node: process.version, startedAt: new Date().toISOString() };
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
for (const name of names) {
  const suite = suites[name];
  if (!suite) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(suites).join(", ")}`);
  results[name] = await suite();
  writeFileSync(join(ROOT, "bench", "results", `${name}.json`), JSON.stringify(results[name], null, 2));
}
process.exit(0);
