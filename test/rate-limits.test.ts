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
 * burst that straddles two windows would be counted in two. Start it early enough in one.
 */
async function freshWindow(periodSeconds: number, needMs: number): Promise<void> {
  const left = periodSeconds * 1000 - (Date.now() % (periodSeconds * 1000));
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 100));
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
    const user = await createUser(t);
    const other = await createUser(t);
    const second = await addToken(user.id);
    const list = (token: string) => t.request("/api/v1/workouts/hevy?limit=1", { token });
    await freshWindow(API.period, 8_000); // the burst takes about 2 s

    expect(new Set(await burst(API.limit, () => list(user.token)))).toEqual(new Set([200]));
    const refused = await list(user.token);
    const body = await expectProblem(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(API.period));
    expect(body.detail).toBe(`This API token sent too many requests. Retry after ${API.period} seconds.`);
    // Every route and method of the token, writes included: nothing runs.
    const items = [item("AH-1", Date.UTC(2026, 10, 20, 17), 60)];
    await expectProblem(await t.request("/api/v1/sources/apple_health/workouts", { method: "PUT", token: user.token, json: { items } }), 429, "rate_limited");
    expect(await (await dbOf(user.id)).prepare("SELECT count(*) AS n FROM source_workouts WHERE user_id = ?").bind(user.id).first("n")).toBe(0);

    expect((await list(second)).status).toBe(200);
    expect((await list(other.token)).status).toBe(200);
    // A bad token is refused as before (401): the limit counts tokens, not guesses.
    await expectProblem(await list("vt_unknown"), 401, "unauthorized");
  });

  it("webhook intake: a connection over its limit gets 429 with Retry-After and nothing queued, also under a rotated secret; another connection's deliveries pass", async () => {
    const one = await connected(t, 0);
    const two = await connected(t, 0);
    const workout = putWorkout(t, one.apiKey);
    await freshWindow(WEBHOOK.period, 5_000);

    expect(new Set(await burst(WEBHOOK.limit, () => sendWebhook(t, one.apiKey, workout.id)))).toEqual(new Set([200]));
    expect(t.queue.messages).toHaveLength(WEBHOOK.limit);
    const refused = await sendWebhook(t, one.apiKey, workout.id);
    await expectProblem(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(WEBHOOK.period));
    expect(t.queue.messages).toHaveLength(WEBHOOK.limit);
    // Counted before the Authorization check (what it would cost); an unknown address is still 404.
    const path = new URL(t.hevy.webhookSubscription(one.apiKey)!.url).pathname;
    await expectProblem(await t.request(path, { method: "POST", headers: { authorization: "Bearer guess" }, body: "{}" }), 429, "rate_limited");
    await expectProblem(await t.request(`/webhooks/hevy/${"A".repeat(43)}`, { method: "POST", body: "{}" }), 404, "not_found");
    // The count is the connection's, not the address's: a new secret does not reset it.
    expect((await t.request(`${CONN}/webhook-secret`, { method: "POST", token: one.user.token })).status).toBe(200);
    expect(new URL(t.hevy.webhookSubscription(one.apiKey)!.url).pathname).not.toBe(path);
    await expectProblem(await sendWebhook(t, one.apiKey, workout.id), 429, "rate_limited");

    const passed = await sendWebhook(t, two.apiKey, putWorkout(t, two.apiKey).id);
    expect(passed.status).toBe(200);
    expect(await passed.json()).toEqual({ status: "queued" });
    expect(t.queue.messages.at(-1)).toMatchObject({ type: "webhook_workout", userId: two.user.id });
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
