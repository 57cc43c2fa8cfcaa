// What a Hevy client observes from the fake (QUIRKS.md behaviour). Runs in the Workers runtime.
import { describe, expect, it } from "vitest";
import { FakeHevy, type HevyWorkout } from "./hevy.ts";
import { EQUIPMENT, MUSCLE_GROUPS, TEMPLATE_TYPES } from "./hevy-data.ts";

const BASE = "https://api.hevyapp.com";
const T0 = Date.parse("2025-10-23T01:44:48.340Z");
const SET_KEYS = ["custom_metric", "distance_meters", "duration_seconds", "index", "reps", "rpe", "type", "weight_kg"];
const W = { start_time: "2025-10-20T18:00:00+00:00", end_time: "2025-10-20T19:00:00+00:00" };

function setup(history = 0) {
  const clock = { ms: T0 };
  const fake = new FakeHevy({ now: () => new Date(clock.ms), seed: 7 });
  const acct = fake.createAccount({ name: "Test User" });
  if (history) fake.generateHistory(acct.apiKey, history, { seed: 11 });
  const get = (path: string, key: string | null = acct.apiKey, init: RequestInit = {}) =>
    fake.fetch(`${BASE}${path}`, { ...init, headers: key === null ? {} : { "api-key": key } });
  const body = async (path: string, key?: string) => { const r = await get(path, key); expect(r.status, path).toBe(200); return (await r.json()) as Record<string, any>; };
  return { fake, acct, clock, get, body };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const expectJsonError = async (res: Response, status: number) => {
  expect(res.status).toBe(status);
  expect(typeof ((await res.json()) as { error: unknown }).error).toBe("string");
};

describe("auth", () => {
  it("401 with a non-JSON body for missing, unknown, Authorization-only and revoked keys", async () => {
    const { fake, acct, get } = setup();
    for (const res of [await get("/v1/user/info", null), await get("/v1/user/info", crypto.randomUUID()),
      await fake.fetch(`${BASE}/v1/user/info`, { headers: { authorization: `Bearer ${acct.apiKey}` } })]) {
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(() => JSON.parse(text)).toThrow();
    }
    expect((await get("/v1/workouts")).status).toBe(200);
    fake.revokeKey(acct.apiKey);
    for (const p of ["/v1/user/info", "/v1/workouts", "/v1/workouts/events", "/v1/webhook-subscription"]) expect((await get(p)).status).toBe(401);
  });

  it("user info and count", async () => {
    const { acct, body } = setup(7);
    expect(await body("/v1/user/info")).toEqual({ data: { id: acct.userId, name: "Test User", url: "https://hevy.com/user/testuser" } });
    expect(await body("/v1/workouts/count")).toEqual({ workout_count: 7 });
  });
});

describe("GET /v1/workouts pagination", () => {
  it("defaults to pageSize 5, allows 10, rejects the rest with 400", async () => {
    const { get, body } = setup(12);
    const first = await body("/v1/workouts");
    expect([first.page, first.page_count, first.workouts.length]).toEqual([1, 3, 5]);
    expect((await body("/v1/workouts?pageSize=10&page=2")).workouts).toHaveLength(2);
    for (const q of ["pageSize=11", "pageSize=0", "pageSize=2.5", "pageSize=x", "page=0", "page=-1", "page=1.5"]) await expectJsonError(await get(`/v1/workouts?${q}`), 400);
    const htmlRes = await get("/v1/workouts?page=abc");
    expect(htmlRes.status).toBe(400);
    expect(htmlRes.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await htmlRes.text()).toMatch(/^<!DOCTYPE html>/);
  });

  it("404 past page_count; an empty account answers page 1 with page_count 0", async () => {
    const { fake, get, body } = setup(12);
    await expectJsonError(await get("/v1/workouts?page=4"), 404);
    expect((await get("/v1/workouts?page=3")).status).toBe(200);
    const empty = fake.createAccount();
    expect(await body("/v1/workouts", empty.apiKey)).toEqual({ page: 1, page_count: 0, workouts: [] });
    expect((await get("/v1/workouts?page=2", empty.apiKey)).status).toBe(404);
  });

  it("lists in account order, which is not start_time order", async () => {
    const { fake, acct, body } = setup(40);
    const seen: HevyWorkout[] = [];
    for (let page = 1, count = 1; page <= count; page++) { const r = await body(`/v1/workouts?page=${page}&pageSize=10`); count = r.page_count; seen.push(...r.workouts); }
    expect(seen).toEqual(fake.listWorkouts(acct.apiKey));
    const starts = seen.map((w) => w.start_time);
    expect(starts).not.toEqual([...starts].sort());
    expect(starts).not.toEqual([...starts].sort().reverse());
  });
});

describe("workout shapes and generated history", () => {
  it("every field present, explicit nulls, supersets_id, Hevy time formats", async () => {
    const { fake, acct, get } = setup(60);
    const raw = await (await get("/v1/workouts?pageSize=10")).text();
    expect(raw).toContain('"weight_kg":null');
    expect(raw).not.toContain("superset_id\"");
    const all = fake.listWorkouts(acct.apiKey);
    const sets = all.flatMap((w) => w.exercises.flatMap((e) => e.sets));
    for (const w of all) {
      expect(Object.keys(w).sort()).toEqual(["created_at", "description", "end_time", "exercises", "id", "routine_id", "start_time", "title", "updated_at"]);
      expect(w.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(w.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(w.end_time)).toBeGreaterThan(Date.parse(w.start_time));
      expect(Date.parse(w.created_at)).toBeLessThanOrEqual(Date.parse(w.updated_at));
      expect(Date.parse(w.updated_at)).toBeLessThanOrEqual(T0);
      expect(w.exercises.length).toBeGreaterThanOrEqual(4);
      expect(w.exercises.length).toBeLessThanOrEqual(8);
      for (const e of w.exercises) expect(Object.keys(e).sort()).toEqual(["exercise_template_id", "index", "notes", "sets", "supersets_id", "title"]);
    }
    for (const s of sets) expect(Object.keys(s).sort()).toEqual(SET_KEYS);
    expect(sets.some((s) => s.type === "warmup")).toBe(true);
    expect(sets.some((s) => s.weight_kg === null && s.reps !== null)).toBe(true); // bodyweight
    expect(sets.some((s) => s.distance_meters !== null && s.duration_seconds !== null && s.reps === null)).toBe(true); // cardio
    expect(sets.filter((s) => s.rpe !== null).length).toBeLessThan(sets.length * 0.3);
    expect(sets.filter((s) => s.custom_metric !== null).length).toBeLessThan(sets.length * 0.1);
    const ss = all.map((w) => w.exercises.map((e) => e.supersets_id).filter((x) => x !== null));
    expect(ss.some((ids) => ids.includes(0))).toBe(true);
    for (const ids of ss) for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(2);
    const descriptions = new Set(all.map((w) => (w.description === null ? "null" : w.description === "" ? "empty" : "text")));
    expect(descriptions).toEqual(new Set(["null", "empty", "text"]));
    expect(all.filter((w) => w.routine_id === null).length).toBeGreaterThan(all.length / 2);
    const templateIds = new Set(fake.listExerciseTemplates(acct.apiKey).map((t) => t.id));
    for (const w of all) for (const e of w.exercises) expect(templateIds.has(e.exercise_template_id)).toBe(true);
  });

  it("is deterministic per seed and draws some exercises from custom templates", () => {
    const a = setup(), b = setup();
    const strip = (ws: HevyWorkout[]) => ws.map(({ id: _id, ...rest }) => rest);
    expect(strip(a.fake.generateHistory(a.acct.apiKey, 10, { seed: 5 }))).toEqual(strip(b.fake.generateHistory(b.acct.apiKey, 10, { seed: 5 })));
    const custom = a.fake.addCustomTemplate(a.acct.apiKey, { title: "Landmine Row" });
    const ws = a.fake.generateHistory(a.acct.apiKey, 60, { seed: 9 });
    expect(ws.some((w) => w.exercises.some((e) => e.exercise_template_id === custom.id && e.title === "Landmine Row"))).toBe(true);
  });
});

describe("workout by id, putWorkout, deleteWorkout", () => {
  it("GET /v1/workouts/{id}: bare workout, 404 when missing, deleted or another account's", async () => {
    const { fake, acct, get, body } = setup(3);
    const [w] = fake.listWorkouts(acct.apiKey);
    expect(await body(`/v1/workouts/${w!.id}`)).toEqual(w);
    const other = fake.createAccount();
    await expectJsonError(await get(`/v1/workouts/${w!.id}`, other.apiKey), 404);
    await expectJsonError(await get(`/v1/workouts/${crypto.randomUUID()}`), 404);
    fake.deleteWorkout(acct.apiKey, w!.id);
    await expectJsonError(await get(`/v1/workouts/${w!.id}`), 404);
  });

  it("creates (appended, now() with ms), replaces in place, fills nulls, deep-copies in and out", () => {
    const { fake, acct, clock } = setup(3);
    const input = { ...W, title: "Push", exercises: [{ exercise_template_id: "79D0BB3A", sets: [{ weight_kg: 100, reps: 5 }] }] } as unknown as HevyWorkout;
    const created = fake.putWorkout(acct.apiKey, input);
    expect(created.updated_at).toBe("2025-10-23T01:44:48.340Z");
    expect(created.exercises[0]).toMatchObject({ index: 0, title: "Bench Press (Barbell)", notes: null, supersets_id: null });
    expect(created.exercises[0]!.sets[0]).toEqual({ index: 0, type: "normal", weight_kg: 100, reps: 5, distance_meters: null, duration_seconds: null, rpe: null, custom_metric: null });
    input.title = "mutated"; created.title = "mutated too";
    expect(fake.listWorkouts(acct.apiKey).map((w) => w.id).at(-1)).toBe(created.id);
    expect(fake.listWorkouts(acct.apiKey).at(-1)!.title).toBe("Push");
    fake.listWorkouts(acct.apiKey)[3]!.exercises.length = 0;
    expect(fake.listWorkouts(acct.apiKey)[3]!.exercises).toHaveLength(1);
    clock.ms += 60_000;
    const first = fake.listWorkouts(acct.apiKey)[0]!;
    const replaced = fake.putWorkout(acct.apiKey, { ...first, title: "Edited" });
    expect(replaced).toMatchObject({ id: first.id, created_at: first.created_at, updated_at: "2025-10-23T01:45:48.340Z" });
    expect(fake.listWorkouts(acct.apiKey)[0]!.title).toBe("Edited");
    expect(fake.listWorkouts(acct.apiKey)).toHaveLength(4);
  });
});

describe("GET /v1/workouts/events", () => {
  it("newest first, current state for updates, deleted shape, strict since, created-then-deleted shows as deleted", async () => {
    const { fake, acct, clock, body } = setup(4);
    const [b, d] = fake.listWorkouts(acct.apiKey);
    const at = (n: number) => { clock.ms = T0 + n * 1000; return new Date(clock.ms).toISOString(); };
    const since = at(0);
    at(1); const a = fake.putWorkout(acct.apiKey, { ...W, title: "A" });
    const t2 = at(2); fake.putWorkout(acct.apiKey, { ...b!, title: "B edited" });
    at(3); const c = fake.putWorkout(acct.apiKey, { ...W, title: "C" });
    at(4); fake.deleteWorkout(acct.apiKey, c.id);
    const t5 = at(5); fake.deleteWorkout(acct.apiKey, d!.id);
    const page = await body(`/v1/workouts/events?since=${since}&pageSize=10`);
    expect(page.page_count).toBe(1);
    expect(page.events.map((e: any) => (e.type === "deleted" ? `deleted:${e.id}` : `updated:${e.workout.title}`)))
      .toEqual([`deleted:${d!.id}`, `deleted:${c.id}`, "updated:B edited", "updated:A"]);
    expect(page.events[0]).toEqual({ type: "deleted", id: d!.id, deleted_at: t5 });
    expect(page.events[3]).toEqual({ type: "updated", workout: { ...a } });
    expect((await body(`/v1/workouts/events?since=${t2}`)).events).toHaveLength(2); // t2 itself excluded
    const all = await body("/v1/workouts/events?pageSize=10"); // no since = epoch: everything
    expect(all.events).toHaveLength(fake.listWorkouts(acct.apiKey).length + 2);
    expect((await body(`/v1/workouts/events?since=${at(6)}`))).toEqual({ page: 1, page_count: 0, events: [] });
  });

  it("400 on bad since / pageSize, 404 past page_count", async () => {
    const { get } = setup(12);
    for (const q of ["since=yesterday", "pageSize=11", "page=0"]) await expectJsonError(await get(`/v1/workouts/events?${q}`), 400);
    await expectJsonError(await get("/v1/workouts/events?pageSize=10&page=3"), 404);
  });
});

describe("GET /v1/exercise_templates", () => {
  it("~450 built-ins (pageSize ≤ 100) then the account's own custom templates", async () => {
    const { fake, acct, get, body } = setup();
    const custom = fake.addCustomTemplate(acct.apiKey, { title: "My Curl", type: "weight_reps", primary_muscle_group: "biceps" });
    const all = fake.listExerciseTemplates(acct.apiKey);
    const builtins = all.filter((t) => !t.is_custom);
    expect(builtins.length).toBeGreaterThanOrEqual(430);
    expect(builtins.length).toBeLessThanOrEqual(460);
    expect(all.at(-1)).toEqual(custom);
    expect(custom.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(builtins.map((t) => t.id)).size).toBe(builtins.length);
    for (const t of builtins) {
      expect(t.id).toMatch(/^[0-9A-F]{8}$/);
      expect(TEMPLATE_TYPES).toContain(t.type);
      expect(EQUIPMENT).toContain(t.equipment_category);
      for (const m of [t.primary_muscle_group, ...t.secondary_muscle_groups]) expect(MUSCLE_GROUPS).toContain(m);
    }
    expect(new Set(builtins.map((t) => t.type))).toEqual(new Set(TEMPLATE_TYPES));
    const first = await body("/v1/exercise_templates");
    expect(first.exercise_templates).toHaveLength(5);
    const big = await body("/v1/exercise_templates?pageSize=100&page=5");
    expect(big.page_count).toBe(Math.ceil(all.length / 100));
    expect(big.exercise_templates.at(-1)).toEqual(custom);
    await expectJsonError(await get("/v1/exercise_templates?pageSize=101"), 400);
    const other = fake.createAccount();
    expect(fake.listExerciseTemplates(other.apiKey).some((t) => t.id === custom.id)).toBe(false);
    expect(await body(`/v1/exercise_templates/${custom.id}`)).toEqual(custom);
  });
});

describe("webhook subscription", () => {
  const post = (get: ReturnType<typeof setup>["get"], b: unknown) =>
    get("/v1/webhook-subscription", undefined, { method: "POST", body: JSON.stringify(b) });

  it("POST 201 / GET snake_case / replace / DELETE 200 / 404 when none; delivery request", async () => {
    const { fake, acct, get } = setup(1);
    expect(fake.webhookDelivery(acct.apiKey, "x")).toBeNull();
    await expectJsonError(await get("/v1/webhook-subscription"), 404);
    await expectJsonError(await post(get, { url: "https://a.test/hook" }), 400);
    expect((await post(get, { url: "https://a.test/hook", authToken: "Bearer one" })).status).toBe(201);
    expect((await post(get, { url: "https://b.test/hook", authToken: "Bearer two" })).status).toBe(201);
    expect(await (await get("/v1/webhook-subscription")).json()).toEqual({ url: "https://b.test/hook", auth_token: "Bearer two" });
    expect(fake.webhookSubscription(acct.apiKey)).toEqual({ url: "https://b.test/hook", authToken: "Bearer two" });
    const req = fake.webhookDelivery(acct.apiKey, "f1085cdb-32b2-4003-967d-53a3af8eaecb")!;
    expect([req.method, req.url, req.headers.get("authorization"), req.headers.get("content-type")]).toEqual(["POST", "https://b.test/hook", "Bearer two", "application/json"]);
    const payload = (await req.json()) as { id: string; payload: unknown };
    expect(payload.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.payload).toEqual({ workoutId: "f1085cdb-32b2-4003-967d-53a3af8eaecb" });
    expect((await get("/v1/webhook-subscription", undefined, { method: "DELETE" })).status).toBe(200);
    expect((await get("/v1/webhook-subscription")).status).toBe(404);
    expect(fake.webhookSubscription(acct.apiKey)).toBeNull();
  });

  it("not_found → 404 and server_error → 500 on every method", async () => {
    const { fake, acct, get } = setup();
    for (const [mode, status] of [["not_found", 404], ["server_error", 500]] as const) {
      fake.setWebhookSupport(acct.apiKey, mode);
      expect((await post(get, { url: "https://a.test", authToken: "t" })).status).toBe(status);
      expect((await get("/v1/webhook-subscription")).status).toBe(status);
      expect((await get("/v1/webhook-subscription", undefined, { method: "DELETE" })).status).toBe(status);
    }
  });
});

describe("faults, latency, request log, routing", () => {
  it("status faults (Retry-After, body, times, match) apply before auth and are consumed in order", async () => {
    const { fake, get } = setup(3);
    fake.injectFault({ status: 429, retryAfter: "7", body: "slow down", times: 2 });
    fake.injectFault({ status: 500, match: "/events" });
    const r = await get("/v1/workouts", null);
    expect([r.status, r.headers.get("retry-after"), await r.text()]).toEqual([429, "7", "slow down"]);
    expect((await get("/v1/workouts/events")).status).toBe(429);
    expect((await get("/v1/workouts")).status).toBe(200); // 500 only matches /events
    expect((await get("/v1/workouts/events")).status).toBe(500);
    expect((await get("/v1/workouts/events")).status).toBe(200);
    fake.injectFault({ status: 503, times: 5 });
    fake.clearFaults();
    expect((await get("/v1/user/info")).status).toBe(200);
  });

  it("network rejects; timeout waits for the AbortSignal; truncated_json and invalid_schema return 200", async () => {
    const { fake, get } = setup(3);
    fake.injectFault({ kind: "network" });
    await expect(get("/v1/workouts")).rejects.toThrow(new TypeError("fetch failed"));
    fake.injectFault({ kind: "timeout", times: 2 });
    await expect(get("/v1/workouts", undefined, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: "TimeoutError" });
    const ctl = new AbortController();
    const pending = fake.fetch(new Request(`${BASE}/v1/workouts`, { signal: ctl.signal }));
    ctl.abort(new Error("gave up"));
    await expect(pending).rejects.toThrow("gave up");
    const real = await (await get("/v1/workouts")).text();
    fake.injectFault({ kind: "truncated_json" });
    const t = await get("/v1/workouts");
    expect(t.status).toBe(200);
    const cut = await t.text();
    expect(real.startsWith(cut) && cut.length < real.length).toBe(true);
    expect(() => JSON.parse(cut)).toThrow();
    fake.injectFault({ kind: "invalid_schema" });
    const bad = (await (await get("/v1/workouts")).json()) as { workouts: unknown };
    expect(typeof bad.workouts).toBe("string");
    expect(fake.requests.map((e) => e.status)).toEqual([0, 0, 0, 200, 200, 200]);
  });

  it("latency delays every response and is abortable", async () => {
    const { fake, get } = setup(1);
    fake.setLatency(80);
    const res = get("/v1/user/info");
    expect(await Promise.race([res.then(() => "response"), sleep(20).then(() => "timer")])).toBe("timer");
    expect((await res).status).toBe(200);
    await expect(get("/v1/user/info", undefined, { signal: AbortSignal.timeout(10) })).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("logs every request; unknown paths 404; fetch works unbound and with Request input", async () => {
    const { fake, acct, clock } = setup(1);
    const f = fake.fetch;
    expect((await f(`${BASE}/v1/nope?x=1`, { headers: { "api-key": acct.apiKey } })).status).toBe(404);
    expect((await f(new Request(`${BASE}/v1/workouts`, { method: "POST", headers: { "api-key": acct.apiKey } }))).status).toBe(404);
    expect((await f(new URL(`/v1/workouts/count`, "http://any-host.test"), { headers: { "api-key": acct.apiKey } })).status).toBe(200);
    expect(fake.requests).toEqual([
      { method: "GET", path: "/v1/nope", query: { x: "1" }, apiKey: acct.apiKey, status: 404, at: clock.ms },
      { method: "POST", path: "/v1/workouts", query: {}, apiKey: acct.apiKey, status: 404, at: clock.ms },
      { method: "GET", path: "/v1/workouts/count", query: {}, apiKey: acct.apiKey, status: 200, at: clock.ms },
    ]);
  });
});

describe("race and odd-data helpers", () => {
  it("faults by exact path and query; the ones that do not match stay queued", async () => {
    const { fake, get } = setup(12);
    fake.injectFault({ status: 500, path: "/v1/workouts/events" });
    fake.injectFault({ status: 404, path: "/v1/workouts", query: { page: "3" }, times: 1 });
    expect((await get("/v1/workouts?page=2")).status).toBe(200); // both queued, neither matches
    expect((await get("/v1/workouts/count")).status).toBe(200); // `path` is exact, not a prefix
    expect((await get("/v1/workouts?pageSize=5")).status).toBe(200); // query param absent ≠ "3"
    await expectJsonError(await get("/v1/workouts?pageSize=5&page=3"), 404);
    expect((await get("/v1/workouts?page=3")).status).toBe(200); // times: 1
    expect((await get("/v1/workouts/events?page=3")).status).toBe(500);
    expect((await get("/v1/workouts/events?page=3")).status).toBe(200);
    fake.injectFault({ status: 429, match: "/v1/workouts", query: { pageSize: "10" } }); // match and query combine
    expect((await get("/v1/workouts/events?pageSize=5")).status).toBe(200);
    expect((await get("/v1/workouts/events?pageSize=10")).status).toBe(429);
  });

  it("putRawWorkout: stored verbatim, listed, evented, served by id; replaced and deleted by key", async () => {
    const { fake, acct, clock, get, body } = setup(3);
    const id = crypto.randomUUID();
    const odd = { id, start_time: "not a time", end_time: W.end_time, updated_at: "2025-10-23T01:44:49.000Z",
      exercises: [{ index: 0, title: "Mystery", exercise_template_id: "79D0BB3A", sets: [{ index: 0, type: "cluster", reps: 3 }] }] }; // no title, no created_at
    clock.ms = T0 + 1000;
    expect(fake.putRawWorkout(acct.apiKey, odd)).toBe(id);
    odd.exercises[0]!.sets[0]!.reps = 99; // copied in
    const noId = { title: "No id", start_time: W.start_time, end_time: W.end_time, exercises: [] };
    expect(fake.putRawWorkout(acct.apiKey, noId, { key: "k-no-id", at: new Date(T0 + 500) })).toBe("k-no-id");
    clock.ms = T0 + 2000;
    const numericId = { id: 42, title: "Numeric id" };
    const randomKey = fake.putRawWorkout(acct.apiKey, numericId);
    expect(randomKey).toMatch(/^[0-9a-f-]{36}$/);
    const stored = { ...odd, exercises: [{ ...odd.exercises[0]!, sets: [{ index: 0, type: "cluster", reps: 3 }] }] };
    const listed = await body("/v1/workouts?pageSize=10");
    expect(listed.workouts.slice(3)).toEqual([stored, noId, numericId]);
    expect(listed.workouts).toEqual(fake.listWorkouts(acct.apiKey));
    expect(await body("/v1/workouts/count")).toEqual({ workout_count: 6 });
    expect(await body(`/v1/workouts/${id}`)).toEqual(stored);
    for (const k of ["k-no-id", randomKey, "42"]) await expectJsonError(await get(`/v1/workouts/${k}`), 404); // no string id, no URL
    const since = new Date(T0).toISOString();
    expect((await body(`/v1/workouts/events?since=${since}`)).events).toEqual([
      { type: "updated", workout: numericId }, { type: "updated", workout: stored }, { type: "updated", workout: noId }]); // noId at opts.at
    clock.ms = T0 + 3000;
    const fixed = fake.putWorkout(acct.apiKey, { id, ...W, title: "Fixed" });
    expect(fixed.created_at).toBe(fixed.updated_at); // the raw record had no created_at to keep
    expect(fake.listWorkouts(acct.apiKey).map((w) => w.title).slice(3)).toEqual(["Fixed", "No id", "Numeric id"]);
    clock.ms = T0 + 4000;
    fake.deleteWorkout(acct.apiKey, "k-no-id");
    fake.deleteWorkout(acct.apiKey, randomKey);
    expect(() => fake.deleteWorkout(acct.apiKey, "k-no-id")).toThrow();
    expect((await body(`/v1/workouts/events?since=${new Date(T0 + 2500).toISOString()}`)).events).toEqual([{ type: "updated", workout: fixed }]); // no tombstones without an id
    fake.deleteWorkout(acct.apiKey, id);
    expect((await body(`/v1/workouts/events?since=${new Date(T0 + 2500).toISOString()}`)).events).toEqual([{ type: "deleted", id, deleted_at: new Date(T0 + 4000).toISOString() }]);
    // A raw record with an id, put after a deletion, revives it like putWorkout does.
    fake.putRawWorkout(acct.apiKey, { id, title: "Back" });
    expect((await body(`/v1/workouts/events?since=${new Date(T0 + 2500).toISOString()}`)).events).toEqual([{ type: "updated", workout: { id, title: "Back" } }]);
  });

  it("putWorkout updatedAt: a late-committed change whose event lies before events already served", async () => {
    const { fake, acct, clock, body } = setup(2);
    const [old] = fake.listWorkouts(acct.apiKey);
    const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
    clock.ms = T0 + 10_000;
    const a = fake.putWorkout(acct.apiKey, { ...W, title: "A" });
    expect((await body(`/v1/workouts/events?since=${iso(0)}`)).events).toEqual([{ type: "updated", workout: a }]); // served; a cursor would now sit at 10 s
    clock.ms = T0 + 20_000;
    const late = fake.putWorkout(acct.apiKey, { ...W, title: "Late" }, { updatedAt: new Date(T0 + 5000) });
    const edited = fake.putWorkout(acct.apiKey, { ...old!, title: "Late edit" }, { updatedAt: new Date(T0 + 4000) });
    expect([late.updated_at, late.created_at, edited.updated_at, edited.created_at]).toEqual([iso(5), iso(5), iso(4), old!.created_at]);
    expect((await body(`/v1/workouts/events?since=${iso(0)}`)).events.map((e: any) => e.workout.title)).toEqual(["A", "Late", "Late edit"]);
    expect((await body(`/v1/workouts/events?since=${iso(10)}`)).events).toEqual([]); // invisible to a cursor without overlap
    expect(fake.listWorkouts(acct.apiKey).map((w) => w.title)).toEqual(["Late edit", expect.any(String), "A", "Late"]);
  });

  it("pause: answer computed on arrival, held until release; later requests pass; abort rejects", async () => {
    const { fake, acct, get, body } = setup(12);
    const page2 = fake.listWorkouts(acct.apiKey).slice(5, 10);
    const p = fake.pause({ path: "/v1/workouts", query: { page: "2" } });
    expect((await get("/v1/workouts/events?page=2")).status).toBe(200); // exact path
    const held = get("/v1/workouts?page=2");
    await p.arrived;
    fake.deleteWorkout(acct.apiKey, page2[0]!.id);
    fake.putWorkout(acct.apiKey, { ...W, title: "Meanwhile" });
    const now = await body("/v1/workouts?page=2"); // a later matching request is not held and sees the new state
    expect(now.workouts.map((w: HevyWorkout) => w.id)).not.toContain(page2[0]!.id);
    expect(await Promise.race([held.then(() => "answered"), sleep(20).then(() => "held")])).toBe("held");
    expect(fake.requests.filter((r) => r.path === "/v1/workouts").map((r) => r.status)).toEqual([0, 200]); // logged when delivered
    p.release();
    const res = await held;
    expect(await res.json()).toEqual({ page: 2, page_count: 3, workouts: page2 }); // the state on arrival
    expect(fake.requests.filter((r) => r.path === "/v1/workouts").map((r) => r.status)).toEqual([200, 200]);

    const m = fake.pause({ method: "DELETE", path: "/v1/webhook-subscription" });
    expect((await get("/v1/webhook-subscription")).status).toBe(404); // GET is not held
    const del = get("/v1/webhook-subscription", undefined, { method: "DELETE" });
    await m.arrived;
    m.release();
    expect((await del).status).toBe(200);

    const early = fake.pause({ path: "/v1/workouts/count" });
    early.release(); // released before arrival: passes straight through
    expect((await get("/v1/workouts/count")).status).toBe(200);
    await early.arrived;

    const q = fake.pause({ path: "/v1/user/info" });
    const ctl = new AbortController();
    const aborted = get("/v1/user/info", undefined, { signal: ctl.signal });
    await q.arrived;
    ctl.abort(new Error("gave up"));
    await expect(aborted).rejects.toThrow("gave up");
    q.release(); // harmless after the abort
    expect(fake.requests.at(-1)!.status).toBe(0);
    expect((await get("/v1/user/info")).status).toBe(200);
  });

  it("pause holds a faulted answer too, and works with latency (the trip comes before arrival)", async () => {
    const { fake, get } = setup(3);
    fake.setLatency(30);
    fake.injectFault({ status: 429, retryAfter: "5", path: "/v1/workouts" });
    const p = fake.pause({ path: "/v1/workouts" });
    let arrived = false;
    void p.arrived.then(() => { arrived = true; });
    const held = get("/v1/workouts");
    await sleep(5);
    expect(arrived).toBe(false);
    await p.arrived;
    await sleep(10);
    p.release();
    const res = await held;
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, "5"]);
  });

  it("one Hevy account, two VitalTrends users: same key twice or a second issued key; one webhook subscription per account", async () => {
    const { fake, acct, get, body } = setup(4);
    const key2 = fake.issueKey(acct.apiKey);
    const [one, two] = await Promise.all([body("/v1/user/info"), body("/v1/user/info")]); // the same key used by two users
    expect(one).toEqual(two);
    expect(await body("/v1/user/info", key2)).toEqual(one);
    const w = fake.putWorkout(acct.apiKey, { ...W, title: "Shared" });
    expect(await body(`/v1/workouts/${w.id}`, key2)).toEqual(w);
    expect((await body("/v1/workouts/count", key2)).workout_count).toBe(5);
    const sub = (key: string, method: string, b?: unknown) => get("/v1/webhook-subscription", key, { method, body: b === undefined ? undefined : JSON.stringify(b) });
    expect((await sub(acct.apiKey, "POST", { url: "https://vt.test/hooks/user-a", authToken: "Bearer a" })).status).toBe(201);
    expect(await (await sub(key2, "GET")).json()).toEqual({ url: "https://vt.test/hooks/user-a", auth_token: "Bearer a" });
    expect((await sub(key2, "POST", { url: "https://vt.test/hooks/user-b", authToken: "Bearer b" })).status).toBe(201); // replaces user A's
    expect(await (await sub(acct.apiKey, "GET")).json()).toEqual({ url: "https://vt.test/hooks/user-b", auth_token: "Bearer b" });
    expect(fake.webhookSubscription(acct.apiKey)).toEqual(fake.webhookSubscription(key2));
    expect(fake.webhookDelivery(acct.apiKey, w.id)!.url).toBe("https://vt.test/hooks/user-b");
    const other = fake.createAccount();
    await expectJsonError(await sub(other.apiKey, "GET"), 404); // another account has its own (none)
    expect((await sub(acct.apiKey, "DELETE")).status).toBe(200);
    await expectJsonError(await sub(key2, "GET"), 404);
    expect(fake.webhookSubscription(key2)).toBeNull();
    fake.revokeKey(acct.apiKey); // one user's key revoked; the other's still works
    expect((await sub(acct.apiKey, "GET")).status).toBe(401);
    expect((await sub(key2, "POST", { url: "https://vt.test/hooks/user-b", authToken: "Bearer b" })).status).toBe(201);
  });
});
