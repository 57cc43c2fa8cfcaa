import type { z } from "zod";
import {
  eventsPageSchema,
  skippedRecord,
  templatesPageSchema,
  userInfoSchema,
  workoutCountSchema,
  webhookSubscriptionSchema,
  workoutSchema,
  workoutsPageSchema,
} from "./schemas";
import type { ExerciseTemplate, HevyUser, Page, SkippedRecord, WebhookSubscription, Workout, WorkoutEvent } from "./types";

/** Hevy caps these page sizes (QUIRKS.md); asking for more is a 400. */
export const WORKOUTS_PAGE_SIZE = 10;
export const TEMPLATES_PAGE_SIZE = 100;
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * - auth: 401 only — the key is bad, expired or revoked.
 * - rate_limited: 429, with Retry-After in seconds when Hevy sent one.
 * - transient: 5xx, network failure, timeout, or a body that is not what Hevy documents.
 * - permanent: any other 4xx (400, 403 quota, 404 …): retrying will not help.
 */
export type HevyErrorKind = "auth" | "rate_limited" | "transient" | "permanent";

export class HevyError extends Error {
  override name = "HevyError";
  constructor(
    readonly kind: HevyErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.kind === "rate_limited" || this.kind === "transient";
  }
}

/** GET /v1/workouts/{id} answered a record that cannot be stored; retrying the same answer cannot help. */
export class InvalidWorkoutRecord extends HevyError {
  override name = "InvalidWorkoutRecord";
  constructor(readonly skipped: SkippedRecord) {
    super("permanent", `Hevy sent a workout that cannot be stored (${skipped.reason})`, 200);
  }
}

export interface HevyClientConfig {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
  /** Called once per HTTP request made, for accounting (sync_runs, benchmarks). */
  onRequest?: () => void;
}

export type HevyClient = ReturnType<typeof createHevyClient>;

/** Parses Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its weekday and month ("Thu, 26 Nov 2026 12:00:30 GMT"); Date.parse alone would take "-5".
  if (!/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function createHevyClient(config: HevyClientConfig) {
  const base = config.baseUrl.replace(/\/+$/, "");
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = config.now ?? Date.now;

  async function send(method: string, path: string, query?: Record<string, string | number>, body?: unknown) {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { "api-key": config.apiKey, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    config.onRequest?.();
    let res: Response;
    try {
      res = await doFetch(url.toString(), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new HevyError(
        "transient",
        timedOut ? `Hevy did not answer within ${timeoutMs / 1000} s` : "Could not reach Hevy",
      );
    }
    if (res.ok) return res;
    // The body of an error is undocumented (sometimes HTML): it is never parsed.
    await res.body?.cancel();
    const at = `${method} ${path}`;
    if (res.status === 401) throw new HevyError("auth", "Hevy rejected the API key", 401);
    if (res.status === 429) {
      const retryAfter = parseRetryAfter(res.headers.get("retry-after"), now());
      throw new HevyError("rate_limited", `Hevy rate-limited ${at}`, 429, retryAfter);
    }
    if (res.status >= 500) throw new HevyError("transient", `Hevy answered ${res.status} to ${at}`, res.status);
    throw new HevyError("permanent", `Hevy answered ${res.status} to ${at}`, res.status);
  }

  async function getJson<S extends z.ZodType>(schema: S, path: string, query?: Record<string, string | number>, onInvalid?: (json: unknown, error: z.ZodError) => never) {
    const res = await send("GET", path, query);
    let json: unknown;
    try {
      json = JSON.parse(await res.text());
    } catch (err) {
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new HevyError("transient", `Hevy did not answer within ${timeoutMs / 1000} s`);
      }
      throw new HevyError("transient", `Hevy sent a body that is not JSON for GET ${path}`, res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success && onInvalid) onInvalid(json, parsed.error);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? ` (${first.path.join(".") || "body"}: ${first.message})` : "";
      throw new HevyError("transient", `Hevy sent an unexpected response for GET ${path}${where}`, res.status);
    }
    return parsed.data as z.output<S>;
  }

  return {
    getUserInfo: (): Promise<HevyUser> => getJson(userInfoSchema, "/v1/user/info"),

    getWorkoutsPage: (page: number, pageSize = WORKOUTS_PAGE_SIZE): Promise<Page<Workout>> =>
      getJson(workoutsPageSchema, "/v1/workouts", { page, pageSize }),

    /** The workout, or null when Hevy no longer has it (404); InvalidWorkoutRecord when it cannot be stored. */
    async getWorkout(id: string): Promise<Workout | null> {
      const invalid = (json: unknown, error: z.ZodError): never => {
        // A JSON object that is not a storable workout is that workout's problem; anything else is a bad answer.
        if (json && typeof json === "object" && !Array.isArray(json)) throw new InvalidWorkoutRecord(skippedRecord(json, error));
        throw new HevyError("transient", `Hevy sent an unexpected response for GET /v1/workouts/{id}`, 200);
      };
      try {
        return await getJson(workoutSchema, `/v1/workouts/${encodeURIComponent(id)}`, undefined, invalid);
      } catch (err) {
        if (err instanceof HevyError && err.status === 404) return null;
        throw err;
      }
    },

    /** How many workouts the account has: re-reads the page count when a page answers 404 mid-walk. */
    getWorkoutCount: async (): Promise<number> => (await getJson(workoutCountSchema, "/v1/workouts/count")).workout_count,

    getWorkoutEventsPage: (since: number, page: number, pageSize = WORKOUTS_PAGE_SIZE): Promise<Page<WorkoutEvent>> =>
      getJson(eventsPageSchema, "/v1/workouts/events", { since: new Date(since).toISOString(), page, pageSize }),

    getExerciseTemplatesPage: (page: number, pageSize = TEMPLATES_PAGE_SIZE): Promise<Page<ExerciseTemplate>> =>
      getJson(templatesPageSchema, "/v1/exercise_templates", { page, pageSize }),

    async subscribeWebhook(url: string, authToken: string): Promise<void> {
      await send("POST", "/v1/webhook-subscription", undefined, { url, authToken });
    },

    /** The current subscription, or null when there is none (404). */
    async getWebhookSubscription(): Promise<WebhookSubscription | null> {
      try {
        return await getJson(webhookSubscriptionSchema, "/v1/webhook-subscription");
      } catch (err) {
        if (err instanceof HevyError && err.status === 404) return null;
        throw err;
      }
    },

    async deleteWebhookSubscription(): Promise<void> {
      await send("DELETE", "/v1/webhook-subscription");
    },
  };
}
