// npm run bench [-- name ...]: runs the benchmarks (all by default), prints a summary
// and writes bench/results/<name>.json. Never part of `npm test`.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchBackfill } from "./backfill.ts";
import { benchExport } from "./export.ts";
import { benchSummary } from "./summary.ts";
import { benchUnified } from "./unified.ts";
import { ROOT } from "./lib.ts";

/** Runs a benchmark that lives inside the Workers runtime (bench/workers/) and returns its BENCH_RESULT line. */
function workersBench(file: string): unknown {
  const out = spawnSync("vitest", ["run", "--config", "bench/vitest.config.ts", file], { cwd: ROOT, encoding: "utf8", env: process.env });
  const line = `${out.stdout}${out.stderr}`.split("\n").find((l) => l.includes("BENCH_RESULT "));
  if (out.status !== 0 || !line) throw new Error(`${file} failed:\n${out.stdout}\n${out.stderr}`);
  return JSON.parse(line.slice(line.indexOf("BENCH_RESULT ") + "BENCH_RESULT ".length));
}

const suites: Record<string, () => Promise<unknown>> = {
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
    // BENCH_SUMMARY_WORKOUTS=500 for a quick smoke run.
    const workouts = Number(process.env.BENCH_SUMMARY_WORKOUTS ?? 10_000);
    const result = await benchSummary(workouts, 50);
    console.log(`GET /api/v1/hevy/summary?weeks=12, ${workouts} workouts:`, JSON.stringify(result, null, 2));
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
