import { defaultRetryPolicy, type RetryPolicy, withHevyRetry } from "./retry";

/**
 * Loads `pages` with at most `concurrency` requests in flight and stores each as
 * it arrives. On the first 429 every worker pauses for the Retry-After and the
 * rest of the run continues one request at a time, so a rate-limited account is
 * not hammered. The first failure stops new pages from starting; pages already
 * in flight finish, then the failure is thrown.
 */
export async function forEachPage<T>(
  pages: number[],
  opts: {
    concurrency: number;
    load: (page: number) => Promise<T>;
    store: (page: number, value: T) => Promise<void>;
    policy?: RetryPolicy;
  },
): Promise<void> {
  const policy = opts.policy ?? defaultRetryPolicy;
  let next = 0;
  let limit = Math.max(1, opts.concurrency);
  let pausedUntil = 0;
  let failed = false;

  const worker = async (slot: number) => {
    while (!failed && next < pages.length && slot < limit) {
      const page = pages[next++]!;
      const value = await withHevyRetry(
        async () => {
          const pause = pausedUntil - policy.now();
          if (pause > 0) await policy.sleep(pause);
          return opts.load(page);
        },
        policy,
        (err, waitMs) => {
          if (err.kind === "rate_limited") {
            limit = 1;
            pausedUntil = Math.max(pausedUntil, policy.now() + waitMs);
          }
        },
      );
      await opts.store(page, value);
    }
  };

  const results = await Promise.allSettled(
    Array.from({ length: limit }, (_, slot) =>
      worker(slot).catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
}
