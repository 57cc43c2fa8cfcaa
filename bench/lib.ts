// Shared pieces of the benchmarks. Starting the Worker lives in scripts/local-worker.ts
// (the demo and the browser tests use it too).

export { api, createUser, freePort, logAndDeliver, ROOT, startWorker, type WorkerUnderTest } from "../scripts/local-worker.ts";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A fixed, interleaved sequence of kinds by weight: request `i` is always the same kind, so every run has the same mix. */
export function mixPicker(mix: Array<[kind: string, weight: number]>): (i: number) => string {
  const total = mix.reduce((n, [, w]) => n + w, 0);
  return (i) => {
    let r = (i * 37) % total;
    for (const [kind, w] of mix) if ((r -= w) < 0) return kind;
    return mix[0]![0];
  };
}

export interface Driven {
  /** Wall times per kind, ms. */
  samples: Map<string, number[]>;
  errors: Map<string, number>;
  /** What failed (kind, status and the start of the body), at most 10. */
  errorSamples: string[];
  seconds: number;
}

/**
 * Runs `concurrency` clients issuing requests 0, 1, 2, … (`request(i)` returns its kind and a call
 * answering null or what went wrong) until `requests` were issued or `seconds` passed.
 */
export async function drive(
  options: { requests: number; seconds: number; concurrency: number },
  kinds: string[],
  request: (i: number) => { kind: string; call: () => Promise<string | null> },
): Promise<Driven> {
  const samples = new Map<string, number[]>(kinds.map((k) => [k, []]));
  const errors = new Map<string, number>(kinds.map((k) => [k, 0]));
  const errorSamples: string[] = [];
  let issued = 0;
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (issued < options.requests && performance.now() < deadline) {
      const { kind, call } = request(issued++);
      const t0 = performance.now();
      let failure: string | null;
      try {
        failure = await call();
      } catch (err) {
        failure = `request failed: ${String(err)}`;
      }
      samples.get(kind)!.push(performance.now() - t0);
      if (failure) {
        errors.set(kind, errors.get(kind)! + 1);
        if (errorSamples.length < 10) errorSamples.push(`${kind}: ${failure}`);
      }
    }
  }));
  return { samples, errors, errorSamples, seconds: (performance.now() - start) / 1000 };
}

/** GET `path` as `token`: null when it answers 200 with a body `check` accepts, else what went wrong. */
export async function checkedGet(base: string, token: string, path: string, check: (body: any) => boolean): Promise<string | null> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) return `${res.status} ${text.slice(0, 200)}`;
  return check(JSON.parse(text)) ? null : `unexpected body ${text.slice(0, 200)}`;
}


export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
