// npm run bench [-- name ...]: runs the benchmarks (all by default), prints a summary
// and writes bench/results/<name>.json. Never part of `npm test`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchBackfill } from "./backfill.ts";
import { ROOT } from "./lib.ts";

const suites: Record<string, () => Promise<unknown>> = {
  backfill: async () => {
    const withLatency = await benchBackfill(2_000, 50);
    console.log("backfill 2,000 workouts, 50 ms per Hevy request:", JSON.stringify(withLatency, null, 2));
    const large = await benchBackfill(10_000, 0);
    console.log("backfill 10,000 workouts, no latency:", JSON.stringify(large, null, 2));
    return { withLatency, large };
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
