import { HevyError } from "../../hevy/client";

/** Thrown to hand a message back to the queue with a delay (message.retry({ delaySeconds })). */
export class RetryLater extends Error {
  override name = "RetryLater";
  constructor(
    readonly delaySeconds: number,
    message: string,
    /** Hevy itself asked for the pause (429): nothing may call it with this key before it has passed. */
    readonly rateLimited = false,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Attempts made in-process before the message goes back to the queue. */
  attempts: number;
  /** Longest wait done in-process; a longer Retry-After goes back to the queue instead. */
  maxInlineWaitMs: number;
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** The clock pauses are measured on (tests pair it with a virtual sleep). */
  now: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 6,
  maxInlineWaitMs: 10_000,
  baseDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: () => Date.now(),
};

/** Exponential backoff with full jitter: a random wait in [base·2ⁿ/2, base·2ⁿ]. */
export function backoffMs(attempt: number, baseMs: number, random: () => number): number {
  const cap = baseMs * 2 ** Math.min(attempt, 10);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Queue-level retry delay for the n-th delivery of a message (seconds, capped at 5 minutes). */
export function queueBackoffSeconds(attempts: number, random: () => number = Math.random): number {
  return Math.min(300, Math.ceil(backoffMs(attempts, 2_000, random) / 1000));
}

/** How long to wait after a retryable Hevy error: never less than Retry-After when Hevy sent one. */
export function waitFor(err: HevyError, attempt: number, policy: RetryPolicy): number {
  const backoff = backoffMs(attempt, policy.baseDelayMs, policy.random);
  if (err.kind === "rate_limited" && err.retryAfterSeconds !== null) {
    return err.retryAfterSeconds * 1000 + Math.round(policy.random() * 250);
  }
  return backoff;
}

/**
 * Runs one Hevy call, retrying 429s and transient failures in-process with
 * backoff. When the attempts are used up, or Hevy asks for a longer pause than
 * is worth holding the invocation for, it throws RetryLater so the queue
 * redelivers the message later. Auth and permanent errors are rethrown at once.
 */
export async function withHevyRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = defaultRetryPolicy,
  onRetry?: (err: HevyError, waitMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof HevyError) || !err.retryable) throw err;
      const wait = waitFor(err, attempt, policy);
      if (attempt + 1 >= policy.attempts || wait > policy.maxInlineWaitMs) {
        throw new RetryLater(Math.max(1, Math.ceil(wait / 1000)), err.message, err.kind === "rate_limited");
      }
      onRetry?.(err, wait);
      await policy.sleep(wait);
    }
  }
}
