import { describe, expect, it } from "vitest";
import { createHevyClient, HevyError, parseRetryAfter } from "../src/hevy/client";
import { FakeHevy } from "./fakes/hevy";

function setup(opts: { timeoutMs?: number } = {}) {
  const fake = new FakeHevy();
  const account = fake.createAccount({ name: "Client Test" });
  let requests = 0;
  const client = createHevyClient({
    baseUrl: "https://hevy.test/",
    apiKey: account.apiKey,
    fetch: (input, init) => fake.fetch(input, init),
    timeoutMs: opts.timeoutMs,
    onRequest: () => requests++,
  });
  return { fake, account, client, requests: () => requests };
}

async function hevyError(p: Promise<unknown>): Promise<HevyError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HevyError) return err;
    throw err;
  }
  throw new Error("expected a HevyError");
}

describe("Hevy client", () => {
  it("sends the api-key header and maps user info", async () => {
    const { fake, account, client, requests } = setup();
    expect(await client.getUserInfo()).toEqual({ id: account.userId, name: "Client Test", url: expect.any(String) });
    expect(fake.requests[0]).toMatchObject({ method: "GET", path: "/v1/user/info", apiKey: account.apiKey });
    expect(requests()).toBe(1);
  });

  it("maps workouts to the project's shape: supersets_id → supersetId, nulls kept, instants as ms", async () => {
    const { fake, account, client } = setup();
    const [truth] = fake.generateHistory(account.apiKey, 1, { seed: 7 });
    const page = await client.getWorkoutsPage(1);
    expect(page.pageCount).toBe(1);
    const w = page.items[0]!;
    expect(w.id).toBe(truth!.id);
    expect(w.startTime).toBe(Date.parse(truth!.start_time));
    expect(w.updatedAt).toBe(Date.parse(truth!.updated_at));
    expect(w.description).toBe(truth!.description);
    truth!.exercises.forEach((e, i) => {
      expect(w.exercises[i]!.supersetId).toBe(e.supersets_id);
      expect(w.exercises[i]!.notes).toBe(e.notes);
      e.sets.forEach((s, j) => {
        expect(w.exercises[i]!.sets[j]).toEqual({
          index: s.index,
          type: s.type,
          weightKg: s.weight_kg,
          reps: s.reps,
          distanceMeters: s.distance_meters,
          durationSeconds: s.duration_seconds,
          rpe: s.rpe,
          customMetric: s.custom_metric,
        });
      });
    });
    expect(fake.requests.at(-1)!.query).toMatchObject({ page: "1", pageSize: "10" });
  });

  it("returns null for a workout Hevy does not have", async () => {
    const { client } = setup();
    expect(await client.getWorkout(crypto.randomUUID())).toBeNull();
  });

  it("classifies 401 as auth", async () => {
    const { fake, account, client } = setup();
    fake.revokeKey(account.apiKey);
    const err = await hevyError(client.getUserInfo());
    expect(err).toMatchObject({ kind: "auth", status: 401, retryable: false });
  });

  it("classifies 429 as rate_limited with Retry-After in seconds or as an HTTP date", async () => {
    const { fake, client } = setup();
    fake.injectFault({ status: 429, retryAfter: "7" });
    expect(await hevyError(client.getUserInfo())).toMatchObject({ kind: "rate_limited", retryAfterSeconds: 7, retryable: true });
    fake.injectFault({ status: 429 });
    expect(await hevyError(client.getUserInfo())).toMatchObject({ kind: "rate_limited", retryAfterSeconds: null });
    fake.injectFault({ status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
    const err = await hevyError(client.getUserInfo());
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it("classifies 5xx, network failures, timeouts and unreadable bodies as transient", async () => {
    const { fake, client } = setup();
    for (const status of [500, 502, 503]) {
      fake.injectFault({ status });
      expect(await hevyError(client.getUserInfo())).toMatchObject({ kind: "transient", status, retryable: true });
    }
    fake.injectFault({ kind: "network" });
    expect(await hevyError(client.getUserInfo())).toMatchObject({ kind: "transient", status: null });
    fake.injectFault({ kind: "truncated_json" });
    expect((await hevyError(client.getWorkoutsPage(1))).message).toContain("not JSON");
    fake.injectFault({ kind: "invalid_schema" });
    expect((await hevyError(client.getWorkoutsPage(1))).message).toContain("unexpected response");
  });

  it("times out a request that hangs", async () => {
    const { fake, client } = setup({ timeoutMs: 50 });
    fake.injectFault({ kind: "timeout" });
    const err = await hevyError(client.getUserInfo());
    expect(err).toMatchObject({ kind: "transient" });
    expect(err.message).toContain("did not answer");
  });

  it("classifies 403 and 400 as permanent, not auth", async () => {
    const { fake, client } = setup();
    fake.injectFault({ status: 403 });
    expect(await hevyError(client.getUserInfo())).toMatchObject({ kind: "permanent", status: 403, retryable: false });
    expect(await hevyError(client.getWorkoutsPage(1, 11))).toMatchObject({ kind: "permanent", status: 400 });
  });

  it("subscribes, reads and deletes the webhook subscription", async () => {
    const { fake, account, client } = setup();
    await client.subscribeWebhook("https://x.test/webhooks/hevy/s", "Bearer t");
    expect(await client.getWebhookSubscription()).toEqual({ url: "https://x.test/webhooks/hevy/s", authToken: "Bearer t" });
    await client.deleteWebhookSubscription();
    expect(await client.getWebhookSubscription()).toBeNull();
    fake.setWebhookSupport(account.apiKey, "not_found");
    expect(await hevyError(client.subscribeWebhook("https://x.test/w", "Bearer t"))).toMatchObject({ kind: "permanent", status: 404 });
  });

  it("reads events and templates pages", async () => {
    const { fake, account, client } = setup();
    const [w] = fake.generateHistory(account.apiKey, 2, { seed: 3 });
    fake.deleteWorkout(account.apiKey, w!.id);
    const events = await client.getWorkoutEventsPage(0, 1);
    expect(events.items[0]).toEqual({ type: "deleted", id: w!.id, deletedAt: expect.any(Number) });
    expect(events.items[1]).toMatchObject({ type: "updated" });
    const templates = await client.getExerciseTemplatesPage(1);
    expect(templates.items).toHaveLength(100);
    expect(templates.pageCount).toBeGreaterThanOrEqual(5);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  it("reads seconds and HTTP dates, and ignores junk", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Thu, 26 Nov 2026 12:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Thu, 26 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter("-5", now)).toBeNull();
  });
});
