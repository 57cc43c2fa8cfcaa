// Shared pieces of the benchmarks. Starting the Worker lives in scripts/local-worker.ts
// (the demo and the browser tests use it too).
export { api, createUser, freePort, ROOT, startWorker, type WorkerUnderTest } from "../scripts/local-worker.ts";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
