// Stateful fake of the Hevy public API v1 (see /work/shared/hevy/QUIRKS.md), for tests, the demo and
// benchmarks. Pure Web APIs only so it runs in workerd and in Node 22 alike.
import { BUILTIN_TEMPLATES, generateWorkouts, makeRng, type Rng } from "./hevy-data.ts";

export interface HevySet { index: number; type: "warmup" | "normal" | "failure" | "dropset"; weight_kg: number | null; reps: number | null; distance_meters: number | null; duration_seconds: number | null; rpe: number | null; custom_metric: number | null }
export interface HevyExercise { index: number; title: string; notes: string | null; exercise_template_id: string; supersets_id: number | null; sets: HevySet[] }
export interface HevyWorkout { id: string; title: string; routine_id: string | null; description: string | null; start_time: string; end_time: string; updated_at: string; created_at: string; exercises: HevyExercise[] }
export interface HevyExerciseTemplate { id: string; title: string; type: string; primary_muscle_group: string; secondary_muscle_groups: string[]; equipment_category: string; is_custom: boolean }
export interface FakeRequestLogEntry { method: string; path: string; query: Record<string, string>; apiKey: string | null; status: number /* 0 for network error/timeout */; at: number }
export type FakeFault =
  | { kind?: "status"; status: number; retryAfter?: string; body?: string; contentType?: string }
  | { kind: "network" } | { kind: "timeout" } | { kind: "truncated_json" } | { kind: "invalid_schema" };
export type WebhookMode = "supported" | "not_found" | "server_error";

/** Which requests a fault or pause applies to: `match` is a substring of the pathname, `path` the exact
 *  pathname ("/v1/workouts" alone, not "/v1/workouts/events"), `query` params that must all be equal. */
export interface FakeRequestMatch { method?: string; match?: string; path?: string; query?: Record<string, string> }
export interface FakePause { arrived: Promise<void>; release(): void }
type QueuedFault = FakeFault & { times: number; match?: string; path?: string; query?: Record<string, string> };
interface QueuedPause { match: FakeRequestMatch; arrived: () => void; released: Promise<void> }
// at/seq: time and order of its latest event. A raw record (putRawWorkout) is stored verbatim and typed
// as a workout only so it flows through the same list/event/get paths; it may lack any field.
interface Stored { workout: HevyWorkout; at: number; seq: number }
interface Tombstone { id: string; deleted_at: string; at: number; seq: number }
interface Account {
  apiKey: string; userId: string; name: string;
  workouts: Map<string, Stored>; // Map insertion order = Hevy's list order
  deleted: Map<string, Tombstone>; custom: HevyExerciseTemplate[];
  webhook: { url: string; authToken: string } | null; webhookMode: WebhookMode;
}

const NAMES = ["Alex Morgan", "Sam Rivera", "Jordan Lee", "Taylor Kim", "Casey Novak", "Riley Chen", "Jamie Okafor", "Robin Silva"];
const copy = <T>(v: T): T => structuredClone(v);
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
const text = (status: number, body: string, type = "text/plain; charset=utf-8"): Response => new Response(body, { status, headers: { "content-type": type } });
// Express-style HTML answers (unknown routes, and the 400s QUIRKS says "come back as HTML").
const html = (status: number, message: string): Response =>
  text(status, `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Error</title></head>\n<body><pre>${message}</pre></body>\n</html>\n`, "text/html; charset=utf-8");
const NULL_BODY = new Set([101, 204, 205, 304]);

const matches = (m: FakeRequestMatch, method: string, url: URL): boolean =>
  (m.method === undefined || m.method.toUpperCase() === method) && (m.match === undefined || url.pathname.includes(m.match)) &&
  (m.path === undefined || url.pathname === m.path) && Object.entries(m.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v);
/** The id Hevy would serve a stored record under: a raw record without a string id has none. */
const idOf = (w: HevyWorkout): string | undefined => (typeof (w as { id?: unknown }).id === "string" ? w.id : undefined);

/** Resolves with `released`, rejects with the signal's reason if it aborts first; no listener is left behind. */
function holdUntil(released: Promise<void>, signal: AbortSignal | null | undefined): Promise<void> {
  if (!signal) return released;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    released.then(() => { signal.removeEventListener("abort", onAbort); resolve(); });
  });
}

function waitForAbort(signal: AbortSignal | null | undefined, ms = Infinity): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = Number.isFinite(ms) ? setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms) : undefined;
    const onAbort = () => { if (timer !== undefined) clearTimeout(timer); reject(signal?.reason); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A payload of the right status but the wrong shape (the `invalid_schema` fault). */
function breakSchema(v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of ["workouts", "events", "exercise_templates", "exercises"]) if (k in o) return { ...o, [k]: `not-an-array` };
    if ("data" in o) return { data: "not-an-object" };
    if ("workout_count" in o) return { workout_count: "many" };
    if ("url" in o) return { url: 42, auth_token: null };
  }
  return "not-the-expected-shape";
}

export class FakeHevy {
  readonly requests: FakeRequestLogEntry[] = [];
  private readonly now: () => Date;
  private readonly rng: Rng;
  private readonly accounts = new Map<string, Account>(); // by api key; several keys may share an account
  private readonly revokedKeys = new Set<string>();
  private faults: QueuedFault[] = [];
  private pauses: QueuedPause[] = [];
  private latencyMs = 0;
  private seq = 0;

  constructor(opts: { now?: () => Date; seed?: number } = {}) {
    this.now = opts.now ?? (() => new Date());
    this.rng = makeRng(opts.seed ?? 0x4e7a);
  }

  /** Same contract as global fetch; bound, so `fetch: fake.fetch` works. Only path/query/headers matter. */
  readonly fetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const url = new URL(req.url);
    const entry: FakeRequestLogEntry = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), apiKey: req.headers.get("api-key"), status: 0, at: this.now().getTime() };
    this.requests.push(entry);
    const fault = this.takeFault(req.method, url); // consumed on arrival, so concurrent requests see faults in call order
    const pause = this.takePause(req.method, url);
    if (this.latencyMs > 0) await waitForAbort(signal, this.latencyMs);
    else if (signal?.aborted) throw signal.reason;
    // Latency is the trip to Hevy. A paused request's answer is computed on arrival (routes read state
    // synchronously) and held until release(); it is logged with its status only once delivered.
    const answer = this.respond(req, url, fault, signal);
    if (pause) {
      answer.catch(() => { /* observed below */ });
      pause.arrived();
      await holdUntil(pause.released, signal);
    }
    const res = await answer;
    entry.status = res.status;
    return res;
  };

  private async respond(req: Request, url: URL, fault: QueuedFault | undefined, signal: AbortSignal | null | undefined): Promise<Response> {
    if (fault?.kind === "network") throw new TypeError("fetch failed");
    if (fault?.kind === "timeout") { await waitForAbort(signal); throw new Error("unreachable"); }
    let res: Response;
    if (fault && (fault.kind === undefined || fault.kind === "status")) {
      const isJson = fault.body === undefined && fault.status !== 401;
      const body = NULL_BODY.has(fault.status) ? null : fault.body ?? (isJson ? JSON.stringify({ error: `Injected ${fault.status}` }) : "Unauthorized");
      const headers: Record<string, string> = { "content-type": fault.contentType ?? (isJson ? "application/json; charset=utf-8" : "text/plain; charset=utf-8") };
      if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
      res = new Response(body, { status: fault.status, headers });
    } else {
      res = await this.route(req, url);
      if (fault?.kind === "truncated_json") { const t = await res.text(); res = text(200, t.slice(0, Math.floor(t.length / 2)), "application/json; charset=utf-8"); }
      if (fault?.kind === "invalid_schema") { const t = await res.text(); let v: unknown = null; try { v = JSON.parse(t); } catch { /* non-JSON → fallback */ } res = json(200, breakSchema(v)); }
    }
    return res;
  }

  createAccount(opts: { name?: string; apiKey?: string } = {}): { apiKey: string; userId: string; name: string } {
    const apiKey = opts.apiKey ?? crypto.randomUUID();
    if (this.accounts.has(apiKey)) throw new Error(`api key already in use: ${apiKey}`);
    const acct: Account = { apiKey, userId: crypto.randomUUID(), name: opts.name ?? this.rng.pick(NAMES), workouts: new Map(), deleted: new Map(), custom: [], webhook: null, webhookMode: "supported" };
    this.accounts.set(apiKey, acct);
    return { apiKey, userId: acct.userId, name: acct.name };
  }

  /** Revokes one key; other keys of the same account keep working. */
  revokeKey(apiKey: string): void { this.account(apiKey); this.revokedKeys.add(apiKey); }

  /** A new key for the same Hevy account (what a user gets from Hevy → Settings → Developer after a revocation). */
  issueKey(apiKey: string): string {
    const acct = this.account(apiKey);
    const key = crypto.randomUUID();
    this.accounts.set(key, acct);
    return key;
  }

  /** Creates or replaces (same id: keeps its list position). `opts.updatedAt` sets `updated_at` and the event
   *  time: a change Hevy commits late, whose event lies before events already served. */
  putWorkout(apiKey: string, w: Partial<HevyWorkout> & { start_time: string; end_time: string }, opts: { updatedAt?: Date } = {}): HevyWorkout {
    const acct = this.account(apiKey);
    const nowIso = (opts.updatedAt ?? this.now()).toISOString();
    const id = w.id ?? crypto.randomUUID();
    const prevCreated = (acct.workouts.get(id)?.workout as { created_at?: unknown } | undefined)?.created_at; // a raw record may lack it
    const templates = this.templatesFor(acct);
    const workout: HevyWorkout = {
      id, title: w.title ?? "Workout", routine_id: w.routine_id ?? null, description: w.description ?? null,
      start_time: w.start_time, end_time: w.end_time, updated_at: nowIso, created_at: typeof prevCreated === "string" ? prevCreated : w.created_at ?? nowIso,
      exercises: (w.exercises ?? []).map((e, i) => ({
        index: e.index ?? i, title: e.title ?? templates.find((t) => t.id === e.exercise_template_id)?.title ?? "Exercise",
        notes: e.notes ?? null, exercise_template_id: e.exercise_template_id ?? (BUILTIN_TEMPLATES[0]?.id ?? ""), supersets_id: e.supersets_id ?? null,
        sets: (e.sets ?? []).map((s, j) => ({ index: s.index ?? j, type: s.type ?? "normal", weight_kg: s.weight_kg ?? null, reps: s.reps ?? null,
          distance_meters: s.distance_meters ?? null, duration_seconds: s.duration_seconds ?? null, rpe: s.rpe ?? null, custom_metric: s.custom_metric ?? null })),
      })),
    };
    acct.deleted.delete(id);
    acct.workouts.set(id, { workout: copy(workout), at: Date.parse(nowIso), seq: ++this.seq }); // replacing keeps list position
    return workout;
  }

  /** Stores `raw` verbatim (off-contract data: missing fields, unknown set types, bad times, no id) and returns its
   *  key: its id when it has a string id, else `opts.key` or a random one. Listed, evented (`updated`, at
   *  `opts.at` or now) and served by id (when it has one) like any workout; putWorkout/deleteWorkout by key. */
  putRawWorkout(apiKey: string, raw: Record<string, unknown>, opts: { key?: string; at?: Date } = {}): string {
    const acct = this.account(apiKey);
    const key = typeof raw.id === "string" ? raw.id : opts.key ?? crypto.randomUUID();
    acct.deleted.delete(key);
    acct.workouts.set(key, { workout: copy(raw) as unknown as HevyWorkout, at: (opts.at ?? this.now()).getTime(), seq: ++this.seq });
    return key;
  }

  /** Removes the workout (or raw record) stored under `key`; a `deleted` event only when it had an id to name. */
  deleteWorkout(apiKey: string, key: string): void {
    const acct = this.account(apiKey);
    const s = acct.workouts.get(key);
    if (!s) throw new Error(`no workout ${key} on this account`);
    acct.workouts.delete(key);
    const id = idOf(s.workout);
    if (id === undefined) return;
    const now = this.now();
    acct.deleted.set(id, { id, deleted_at: now.toISOString(), at: now.getTime(), seq: ++this.seq });
  }

  generateHistory(apiKey: string, count: number, opts: { seed?: number; end?: Date; weeks?: number } = {}): HevyWorkout[] {
    const acct = this.account(apiKey);
    const workouts = generateWorkouts({ count, seed: opts.seed ?? this.rng.int(1, 2 ** 31), end: opts.end ?? this.now(), weeks: opts.weeks, templates: BUILTIN_TEMPLATES, custom: acct.custom, newId: () => crypto.randomUUID() });
    for (const w of workouts) acct.workouts.set(w.id, { workout: copy(w), at: Date.parse(w.updated_at), seq: ++this.seq }); // already shuffled
    return workouts;
  }

  listWorkouts(apiKey: string): HevyWorkout[] { return [...this.account(apiKey).workouts.values()].map((s) => copy(s.workout)); }

  /** Extra: built-ins followed by the account's custom templates, as the API lists them. */
  listExerciseTemplates(apiKey: string): HevyExerciseTemplate[] { return copy(this.templatesFor(this.account(apiKey))); }

  addCustomTemplate(apiKey: string, t: Partial<HevyExerciseTemplate> = {}): HevyExerciseTemplate {
    const acct = this.account(apiKey);
    const tpl: HevyExerciseTemplate = { id: crypto.randomUUID(), title: `Custom Exercise ${acct.custom.length + 1}`, type: "weight_reps", primary_muscle_group: "other",
      equipment_category: "other", ...copy(t), secondary_muscle_groups: copy(t.secondary_muscle_groups ?? []), is_custom: true };
    acct.custom.push(tpl);
    return copy(tpl);
  }

  setWebhookSupport(apiKey: string, mode: WebhookMode): void { this.account(apiKey).webhookMode = mode; }
  webhookSubscription(apiKey: string): { url: string; authToken: string } | null { return copy(this.account(apiKey).webhook); }

  /** The POST Hevy would send for a newly created workout, or null when not subscribed. Not sent by the fake. */
  webhookDelivery(apiKey: string, workoutId: string): Request | null {
    const sub = this.account(apiKey).webhook;
    if (!sub) return null;
    return new Request(sub.url, { method: "POST", headers: { authorization: sub.authToken, "content-type": "application/json" }, body: JSON.stringify({ id: crypto.randomUUID(), payload: { workoutId } }) });
  }

  /** Queued in order; the first fault whose `match`/`path`/`query` fit a request is used, the others stay queued. */
  injectFault(fault: FakeFault & { times?: number; match?: string; path?: string; query?: Record<string, string> }): void { this.faults.push({ ...copy(fault), times: fault.times ?? 1 }); }
  clearFaults(): void { this.faults = []; }
  setLatency(ms: number): void { this.latencyMs = Math.max(0, ms); }

  /** Holds the first request matching (exact pathname, every given query param, method if given): its answer
   *  is computed on arrival, from the state at that moment, and delivered only after release(). `arrived`
   *  resolves when it was received. An abort signal rejects the held request. Later requests pass. */
  pause(match: { method?: string; path: string; query?: Record<string, string> }): FakePause {
    let arrived!: () => void, release!: () => void;
    const arrivedP = new Promise<void>((r) => { arrived = r; });
    const released = new Promise<void>((r) => { release = r; });
    this.pauses.push({ match: { method: match.method, path: match.path, query: copy(match.query) }, arrived, released });
    return { arrived: arrivedP, release };
  }

  // ---- internals ----
  private account(apiKey: string): Account {
    const a = this.accounts.get(apiKey);
    if (!a) throw new Error(`unknown api key: ${apiKey}`);
    return a;
  }

  private templatesFor(acct: Account): HevyExerciseTemplate[] { return [...BUILTIN_TEMPLATES, ...acct.custom]; }

  private takeFault(method: string, url: URL): QueuedFault | undefined {
    const i = this.faults.findIndex((f) => matches(f, method, url));
    const f = this.faults[i];
    if (!f) return undefined;
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  private takePause(method: string, url: URL): QueuedPause | undefined {
    const i = this.pauses.findIndex((p) => matches(p.match, method, url));
    return i < 0 ? undefined : this.pauses.splice(i, 1)[0];
  }

  private async route(req: Request, url: URL): Promise<Response> {
    const key = req.headers.get("api-key");
    const acct = key === null ? undefined : this.accounts.get(key);
    if (!acct || this.revokedKeys.has(key!)) return text(401, "Unauthorized"); // body deliberately not JSON
    const { pathname: p } = url;
    if (p === "/v1/webhook-subscription") return this.webhook(acct, req);
    const notFound = html(404, `Cannot ${req.method} ${p}`);
    if (req.method !== "GET") return notFound;
    if (p === "/v1/user/info") return json(200, { data: { id: acct.userId, name: acct.name, url: `https://hevy.com/user/${acct.name.toLowerCase().replace(/[^a-z0-9]+/g, "")}` } });
    if (p === "/v1/workouts") return this.paginate(url, 10, [...acct.workouts.values()].map((s) => s.workout), "workouts");
    if (p === "/v1/workouts/count") return json(200, { workout_count: acct.workouts.size });
    if (p === "/v1/workouts/events") {
      const raw = url.searchParams.get("since");
      const since = raw === null ? 0 : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
      if (Number.isNaN(since)) return json(400, { error: "Invalid since date" });
      const events = [
        ...[...acct.workouts.values()].map((s) => ({ at: s.at, seq: s.seq, event: { type: "updated", workout: s.workout } as object })),
        ...[...acct.deleted.values()].map((d) => ({ at: d.at, seq: d.seq, event: { type: "deleted", id: d.id, deleted_at: d.deleted_at } as object })),
      ].filter((e) => e.at > since).sort((a, b) => b.at - a.at || b.seq - a.seq);
      return this.paginate(url, 10, events.map((e) => e.event), "events");
    }
    if (p === "/v1/exercise_templates") return this.paginate(url, 100, this.templatesFor(acct), "exercise_templates");
    const m = /^\/v1\/(workouts|exercise_templates)\/([^/]+)$/.exec(p);
    if (m?.[1] === "workouts") {
      const id = decodeURIComponent(m[2] ?? ""), s = acct.workouts.get(id);
      return s && idOf(s.workout) === id ? json(200, s.workout) : json(404, { error: "Workout not found" }); // a raw record without an id has no URL
    }
    if (m?.[1] === "exercise_templates") { const t = this.templatesFor(acct).find((x) => x.id === decodeURIComponent(m[2] ?? "")); return t ? json(200, t) : json(404, { error: "Exercise template not found" }); }
    return notFound;
  }

  private paginate(url: URL, max: number, items: unknown[], key: string): Response {
    const pageRaw = url.searchParams.get("page");
    const sizeRaw = url.searchParams.get("pageSize");
    // QUIRKS: some 400s are HTML. A non-numeric page is the one the fake answers that way.
    if (pageRaw !== null && !/^\s*[+-]?\d+(\.\d+)?\s*$/.test(pageRaw)) return html(400, `Bad Request: invalid page "${pageRaw}"`);
    const page = pageRaw === null ? 1 : Number(pageRaw);
    if (!Number.isInteger(page) || page < 1) return json(400, { error: "Page must be 1 or greater" });
    const size = sizeRaw === null ? 5 : Number(sizeRaw);
    if (!Number.isInteger(size) || size < 1 || size > max) return json(400, { error: `pageSize must be an integer between 1 and ${max}` });
    const pageCount = Math.ceil(items.length / size);
    // Choice: an empty collection still answers page 1 with 200 {page: 1, page_count: 0, [key]: []},
    // so "loop while page <= page_count" and "fetch page 1 first" clients both work; page 2 is 404.
    if (page > Math.max(pageCount, 1)) return json(404, { error: "Page not found" });
    return json(200, { page, page_count: pageCount, [key]: items.slice((page - 1) * size, page * size) });
  }

  private async webhook(acct: Account, req: Request): Promise<Response> {
    if (acct.webhookMode === "not_found") return html(404, `Cannot ${req.method} /v1/webhook-subscription`);
    if (acct.webhookMode === "server_error") return json(500, { error: "Internal Server Error" });
    if (req.method === "GET") return acct.webhook ? json(200, { url: acct.webhook.url, auth_token: acct.webhook.authToken }) : json(404, { error: "No webhook subscription found" });
    if (req.method === "DELETE") { acct.webhook = null; return text(200, "OK"); }
    if (req.method !== "POST") return html(404, `Cannot ${req.method} /v1/webhook-subscription`);
    let body: unknown;
    try { body = await req.json(); } catch { return json(400, { error: "Invalid request body" }); }
    const { url, authToken } = (body ?? {}) as { url?: unknown; authToken?: unknown };
    if (typeof url !== "string" || !url || typeof authToken !== "string" || !authToken) return json(400, { error: "url and authToken are required" });
    acct.webhook = { url, authToken }; // one per account: a second POST replaces the first
    return text(201, "Created");
  }
}
