import { afterEach, beforeEach, expect, vi } from "vitest";
import type { ConsumerOptions } from "../src/queue/consumer";
import { contextAround, createUser, dbOf, type TestContext, type TestUser } from "./helpers";
import { FakeHevy, type HevyWorkout } from "./fakes/hevy";
import { drainQueue, fastBackfill, recordingRetryPolicy } from "./queue-helpers";

export const CONN = "/api/v1/connections/hevy";
const DAY = 86_400_000;

/** Sees every request to Hevy before the fake does; `next()` lets the fake answer. */
export type HevyMiddleware = (req: Request, url: URL, next: () => Promise<Response>) => Promise<Response>;

export interface SyncContext extends TestContext {
  /** Middlewares run in the order added, around the fake; cleared after each test. */
  around(mw: HevyMiddleware): void;
}

/**
 * useTestContext (test/helpers.ts) with two differences a sync test needs: the fake's
 * clock is strictly increasing (workerd's Date.now() stands still between I/O, so two
 * edits in a row would otherwise share an updated_at), and requests to Hevy can be
 * held, failed or followed by an edit at a precise point (`around`).
 */
export function useSyncContext(): SyncContext {
  const ctx = {} as SyncContext;
  beforeEach(() => {
    let last = 0;
    const hevy = new FakeHevy({ now: () => new Date((last = Math.max(Date.now(), last + 1))) });
    const middlewares: HevyMiddleware[] = [];
    const viaMiddlewares = (req: Request, url: URL, i: number): Promise<Response> => {
      const mw = middlewares[i];
      return mw ? mw(req, url, () => viaMiddlewares(req, url, i + 1)) : hevy.fetch(req);
    };
    Object.assign(ctx, {
      ...contextAround(hevy, (req) => viaMiddlewares(req, new URL(req.url), 0)),
      around: (mw: HevyMiddleware) => middlewares.push(mw),
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  return ctx;
}

/** Holds Hevy's answer to the first matching request until released: the fake answers at once (what Hevy had then), the caller sees it later. */
export function holdResponse(t: SyncContext, match: (url: URL) => boolean) {
  let captured!: () => void;
  let release!: () => void;
  const whenCaptured = new Promise<void>((r) => (captured = r));
  const released = new Promise<void>((r) => (release = r));
  let used = false;
  t.around(async (_req, url, next) => {
    if (used || !match(url)) return next();
    used = true;
    const res = await next();
    captured();
    await released;
    return res;
  });
  return { whenCaptured, release };
}

/** Runs `fn` once, right after the fake has answered the first matching request. */
export function afterAnswer(t: SyncContext, match: (url: URL) => boolean, fn: () => void) {
  let done = false;
  t.around(async (_req, url, next) => {
    const res = await next();
    if (!done && match(url)) {
      done = true;
      fn();
    }
    return res;
  });
}

/** Answers `status` instead of the fake to the next `times` matching requests. */
export function failMatching(t: SyncContext, match: (url: URL) => boolean, status: number, times = Infinity) {
  let left = times;
  t.around(async (_req, url, next) => {
    if (left > 0 && match(url)) {
      left--;
      return new Response(JSON.stringify({ error: `Injected ${status}` }), { status, headers: { "content-type": "application/json" } });
    }
    return next();
  });
}

export const isEventsPage = (page: number) => (url: URL) => url.pathname === "/v1/workouts/events" && url.searchParams.get("page") === String(page);
export const isWorkoutGet = (id: string) => (url: URL) => url.pathname === `/v1/workouts/${id}`;

export const deltaOptions = (over: Partial<ConsumerOptions> = {}): ConsumerOptions => ({
  backfill: fastBackfill(),
  delta: { concurrency: 2, retry: recordingRetryPolicy() },
  ...over,
});

/** A user connected the realistic way (PUT with a fake account key) and backfilled; history ends a day ago. */
export async function connected(t: TestContext, history = 5) {
  const user = await createUser(t);
  const account = t.hevy.createAccount();
  if (history > 0) t.hevy.generateHistory(account.apiKey, history, { seed: 42, end: new Date(Date.now() - DAY) });
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  if (res.status !== 202) throw new Error(`connect: ${res.status} ${await res.text()}`);
  await drainQueue(t, { backfill: fastBackfill() });
  const r = await connectionRow(user.id);
  if (r?.backfill_state !== "done") throw new Error(`backfill did not finish: ${JSON.stringify(r)}`);
  t.hevy.requests.length = 0; // what a test counts starts after the backfill
  return { user, apiKey: account.apiKey };
}

/** POST /api/v1/connections/hevy/sync, which queues a delta once the backfill is done. */
export async function requestSync(t: TestContext, user: TestUser) {
  const res = await t.request(`${CONN}/sync`, { method: "POST", token: user.token });
  expect(res.status).toBe(202);
}

/** A workout created (or, with `id`, edited) in the fake Hevy account now. */
export function putWorkout(t: TestContext, apiKey: string, w: Partial<HevyWorkout> & { weight?: number } = {}): HevyWorkout {
  const start = w.start_time ?? new Date(Date.now() - 2 * 3_600_000).toISOString();
  const { weight = 100, ...rest } = w;
  return t.hevy.putWorkout(apiKey, {
    title: "Push",
    end_time: new Date(Date.parse(start) + 3_600_000).toISOString(),
    exercises: [{ index: 0, title: "Bench Press (Barbell)", notes: null, exercise_template_id: "79D0BB3A", supersets_id: null,
      sets: [
        { index: 0, type: "warmup", weight_kg: 40, reps: 10, distance_meters: null, duration_seconds: null, rpe: null, custom_metric: null },
        { index: 1, type: "normal", weight_kg: weight, reps: 5, distance_meters: null, duration_seconds: null, rpe: 8, custom_metric: null },
      ] }],
    ...rest,
    start_time: start,
  });
}

export interface ConnectionView {
  status: string;
  backfill: { state: string };
  last_sync_at: string | null;
  last_error: string | null;
}

export async function view(t: TestContext, user: TestUser): Promise<ConnectionView> {
  const res = await t.request(CONN, { token: user.token });
  expect(res.status).toBe(200);
  return res.json();
}

export const connectionRow = async (userId: string) =>
  (await dbOf(userId)).prepare("SELECT * FROM hevy_connections WHERE user_id = ?").bind(userId).first<Record<string, any>>();

export const syncRuns = async (userId: string, kind?: string) =>
  (await dbOf(userId)).prepare(`SELECT * FROM sync_runs WHERE user_id = ?1 ${kind ? "AND kind = ?2" : ""} ORDER BY started_at, rowid`)
    .bind(...(kind ? [userId, kind] : [userId]))
    .all<Record<string, any>>()
    .then((r) => r.results);

/** Every row D1 has for one workout id, tombstones included. */
export const workoutRows = async (userId: string, id: string) =>
  (await dbOf(userId)).prepare("SELECT * FROM hevy_workouts WHERE user_id = ? AND id = ?").bind(userId, id).all<Record<string, any>>().then((r) => r.results);

/** The delta requests the fake saw, in order. */
export const eventRequests = (t: TestContext) => t.hevy.requests.filter((r) => r.path === "/v1/workouts/events");

/** What a user reads back through the API: every live workout, following next_cursor. */
export async function apiWorkouts(t: TestContext, user: TestUser) {
  const out: Array<{ id: string; title: string; updated_at: string; exercises: Array<{ sets: Array<{ weight_kg: number | null }> }> }> = [];
  let cursor: string | null = null;
  do {
    const res = await t.request(`/api/v1/workouts/hevy?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: user.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: typeof out; next_cursor: string | null };
    out.push(...body.data);
    cursor = body.next_cursor;
  } while (cursor);
  return out;
}

/** Sends Hevy's own delivery (url, Authorization, body) for a created workout to the Worker. */
export async function sendWebhook(t: TestContext, apiKey: string, workoutId: string) {
  const delivery = t.hevy.webhookDelivery(apiKey, workoutId);
  if (!delivery) throw new Error("not subscribed");
  return t.request(new URL(delivery.url).pathname, { method: "POST", headers: delivery.headers, body: await delivery.text() });
}
