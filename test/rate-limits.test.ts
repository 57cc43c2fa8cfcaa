// Rate limits (SPEC §14) at the limits wrangler.toml sets (vitest.config.ts reads them into
// TEST_RATE_LIMITS): per API token on /api/v1, per Hevy connection on webhook intake.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../src/lib/crypto";
import { AppError } from "../src/lib/errors";
import { RATE_LIMIT_PERIODS, rateLimiter } from "../src/lib/rate-limit";
import { createUser, dbOf, expectProblem } from "./helpers";
import { CONN, connected, putWorkout, sendWebhook, useSyncContext } from "./sync-helpers";
import { item } from "./unified-helpers";

const API = env.TEST_RATE_LIMITS.API_RATE_LIMIT!;
const WEBHOOK = env.TEST_RATE_LIMITS.WEBHOOK_RATE_LIMIT!;

/**
 * Miniflare counts in windows aligned to the clock (floor(now / period)), as Cloudflare does: a
 * burst that straddles two windows is counted in two. So each test's limited part runs inside
 * `withinOneWindow`, which runs it again (with fresh users) if a window boundary fell inside it —
 * nothing waits for the clock, and a slow machine only makes a second run likelier.
 */
async function withinOneWindow<T>(periodSeconds: number, run: () => Promise<T>): Promise<T> {
  const windowNow = () => Math.floor(Date.now() / (periodSeconds * 1000));
  for (let i = 0; i < 3; i++) {
    const start = windowNow();
    const result = await run();
    if (windowNow() === start) return result;
  }
  throw new Error("three runs in a row straddled a rate-limit window boundary");
}

/** `n` requests, `concurrency` at a time; their statuses in order. */
async function burst(n: number, send: () => Promise<Response>, concurrency = 25): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, send));
    for (const res of batch) {
      statuses.push(res.status);
      await res.body?.cancel();
    }
  }
  return statuses;
}

/** A second live API token for `userId` (the admin API makes one per user; a user may hold more). */
async function addToken(userId: string): Promise<string> {
  const token = `vt_second_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare("INSERT INTO api_tokens (id, user_id, token_digest, created_at) VALUES (?, ?, ?, ?)")
    .bind(crypto.randomUUID(), userId, await sha256Hex(token), Date.now())
    .run();
  return token;
}

describe("rate limits", () => {
  const t = useSyncContext();

  it("answers with Retry-After the period wrangler.toml sets for each binding", () => {
    expect(RATE_LIMIT_PERIODS).toEqual(Object.fromEntries(Object.entries(env.TEST_RATE_LIMITS).map(([name, r]) => [name, r.period])));
  });

  it("/api/v1: a token over its limit gets 429 rate_limited with Retry-After, and the user's other token and other users are unaffected", async () => {
    const list = (token: string) => t.request("/api/v1/workouts/hevy?limit=1", { token });
    const items = [item("AH-1", Date.UTC(2026, 10, 20, 17), 60)];
    const r = await withinOneWindow(API.period, async () => {
      const user = await createUser(t);
      const other = await createUser(t);
      const second = await addToken(user.id);
      const statuses = await burst(API.limit, () => list(user.token));
      const refused = await list(user.token);
      // Every route and method of the token, writes included: nothing runs.
      const write = await t.request("/api/v1/sources/apple_health/workouts", { method: "PUT", token: user.token, json: { items } });
      return { user, statuses, refused, write, secondStatus: (await list(second)).status, otherStatus: (await list(other.token)).status };
    });

    expect(new Set(r.statuses)).toEqual(new Set([200]));
    const body = await expectProblem(r.refused, 429, "rate_limited");
    expect(r.refused.headers.get("retry-after")).toBe(String(API.period));
    expect(body.detail).toBe(`This API token sent too many requests. Retry after ${API.period} seconds.`);
    await expectProblem(r.write, 429, "rate_limited");
    expect(await (await dbOf(r.user.id)).prepare("SELECT count(*) AS n FROM source_workouts WHERE user_id = ?").bind(r.user.id).first("n")).toBe(0);
    expect(r.secondStatus).toBe(200);
    expect(r.otherStatus).toBe(200);
    // A bad token is refused as before (401): the limit counts tokens, not guesses.
    await expectProblem(await list("vt_unknown"), 401, "unauthorized");
  });

  it("webhook intake: a connection over its limit gets 429 with Retry-After and nothing queued, also under a rotated secret; another connection's deliveries pass", async () => {
    const r = await withinOneWindow(WEBHOOK.period, async () => {
      const one = await connected(t, 0);
      const two = await connected(t, 0);
      const workout = putWorkout(t, one.apiKey);
      const queuedBefore = t.queue.messages.length;
      const statuses = await burst(WEBHOOK.limit, () => sendWebhook(t, one.apiKey, workout.id));
      const queued = t.queue.messages.length - queuedBefore;
      const refused = await sendWebhook(t, one.apiKey, workout.id);
      const queuedAfterRefusal = t.queue.messages.length - queuedBefore;
      // Counted before the Authorization check (what it would cost); an unknown address is still 404.
      const path = new URL(t.hevy.webhookSubscription(one.apiKey)!.url).pathname;
      const guessed = await t.request(path, { method: "POST", headers: { authorization: "Bearer guess" }, body: "{}" });
      const unknown = await t.request(`/webhooks/hevy/${"A".repeat(43)}`, { method: "POST", body: "{}" });
      // The count is the connection's, not the address's: a new secret does not reset it.
      const rotated = await t.request(`${CONN}/webhook-secret`, { method: "POST", token: one.user.token });
      const newPath = new URL(t.hevy.webhookSubscription(one.apiKey)!.url).pathname;
      const afterRotation = await sendWebhook(t, one.apiKey, workout.id);
      const passed = await sendWebhook(t, two.apiKey, putWorkout(t, two.apiKey).id);
      return { two, statuses, queued, refused, queuedAfterRefusal, path, guessed, unknown, rotated, newPath, afterRotation, passed };
    });

    expect(new Set(r.statuses)).toEqual(new Set([200]));
    expect(r.queued).toBe(WEBHOOK.limit);
    await expectProblem(r.refused, 429, "rate_limited");
    expect(r.refused.headers.get("retry-after")).toBe(String(WEBHOOK.period));
    expect(r.queuedAfterRefusal).toBe(WEBHOOK.limit);
    await expectProblem(r.guessed, 429, "rate_limited");
    await expectProblem(r.unknown, 404, "not_found");
    expect(r.rotated.status).toBe(200);
    expect(r.newPath).not.toBe(r.path);
    await expectProblem(r.afterRotation, 429, "rate_limited");
    expect(r.passed.status).toBe(200);
    expect(await r.passed.json()).toEqual({ status: "queued" });
    expect(t.queue.messages.at(-1)).toMatchObject({ type: "webhook_workout", userId: r.two.user.id });
  });
});

describe("rateLimiter", () => {
  it("throws the 429 AppError with Retry-After = the period once the binding says no", async () => {
    const limiter = rateLimiter({ limit: async () => ({ success: false }) }, 10, "Too many.");
    const err = await limiter.check("k").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", headers: { "retry-after": "10" } });
  });

  it("lets the request through, with a warning, when the binding itself fails", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const limiter = rateLimiter({ limit: () => Promise.reject(new Error("limiter down")) }, 60, "Too many.");
    await expect(limiter.check("k")).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("rate limiter unavailable"));
    warn.mockRestore();
  });
});
