import { AppError } from "./errors";

/** The Rate Limiting bindings of wrangler.toml (`[[ratelimits]]`). */
type RateLimitBinding = { [K in keyof WranglerEnv]: WranglerEnv[K] extends RateLimit ? K : never }[keyof WranglerEnv];

/**
 * Each binding's `simple.period` in wrangler.toml, in seconds. The binding answers only yes or no,
 * so Retry-After comes from here; test/rate-limits.test.ts fails when the two disagree.
 */
export const RATE_LIMIT_PERIODS = {
  API_RATE_LIMIT: 60,
  WEBHOOK_RATE_LIMIT: 60,
} as const satisfies Record<RateLimitBinding, 10 | 60>;

/** Counts one request for `key`; throws 429 `rate_limited` once the key is over its limit. */
export interface RateLimiter {
  check(key: string): Promise<void>;
}

export function rateLimiter(binding: RateLimit, periodSeconds: number, detail: string): RateLimiter {
  return {
    async check(key) {
      let success: boolean;
      try {
        ({ success } = await binding.limit({ key }));
      } catch (err) {
        // The limiter is a guard, not a dependency: when it fails, serve the request.
        const e = err instanceof Error ? err : new Error(String(err));
        console.warn(JSON.stringify({ level: "warn", msg: "rate limiter unavailable: request allowed", error: e.name, message: e.message.slice(0, 300) }));
        return;
      }
      if (!success) throw rateLimited(periodSeconds, detail);
    },
  };
}

/** Fixed windows: by the end of one period the count has started again, so that is the wait. */
const rateLimited = (retryAfterSeconds: number, detail: string) =>
  new AppError(429, "rate_limited", "Too many requests", `${detail} Retry after ${retryAfterSeconds} seconds.`, undefined, {
    "retry-after": String(retryAfterSeconds),
  });
