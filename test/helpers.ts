import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import { createDeps, type Deps, forShard } from "../src/deps";
import type { Env } from "../src/env";
import worker from "../src/index";
import type { SyncMessage, WebhookDeliveryMessage } from "../src/queue/messages";
import { checkContract } from "./api-contract";
import { FakeHevy } from "./fakes/hevy";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;
export const HEVY_BASE = env.HEVY_API_BASE_URL;

/** A stand-in for SYNC_QUEUE that keeps what was sent, so tests can run the consumer on it deterministically. */
export class RecordingQueue<T = SyncMessage> {
  /** What the queue would deliver now. */
  readonly messages: T[] = [];
  /** Sent with a delay: the queue would deliver them later, so drainQueue leaves them to the test. */
  readonly delayed: Array<{ body: T; delaySeconds: number }> = [];
  /** Every send with the delay it asked for. */
  readonly sends: Array<{ body: T; delaySeconds?: number }> = [];
  async send(body: T, options?: QueueSendOptions): Promise<QueueSendResponse> {
    const delaySeconds = options?.delaySeconds ?? 0;
    if (delaySeconds > 0) this.delayed.push({ body: structuredClone(body), delaySeconds });
    else this.messages.push(structuredClone(body));
    this.sends.push({ body: structuredClone(body), delaySeconds: options?.delaySeconds });
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: undefined } } } as unknown as QueueSendResponse;
  }
  async sendBatch(batch: Iterable<MessageSendRequest<T>>): Promise<QueueSendBatchResponse> {
    for (const m of batch) await this.send(m.body, m.delaySeconds === undefined ? undefined : { delaySeconds: m.delaySeconds });
    return {} as QueueSendBatchResponse;
  }
  take(): T[] {
    return this.messages.splice(0);
  }
}

export interface TestContext {
  hevy: FakeHevy;
  queue: RecordingQueue;
  /** WEBHOOK_QUEUE: outgoing webhook deliveries (SPEC §15). */
  webhookQueue: RecordingQueue<WebhookDeliveryMessage>;
  /**
   * Handlers for outbound requests to other origins (consumer webhook endpoints), by origin
   * ("https://consumer.test"); a request to an origin without one fails the test.
   */
  outbound: Map<string, (request: Request) => Promise<Response>>;
  env: Env;
  /** Calls the Worker's real fetch handler with the test env. */
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
}

/**
 * Per test: a fresh fake Hevy behind every outbound fetch to HEVY_API_BASE_URL
 * (any other outbound request fails the test) and a recording queue.
 */
export function useTestContext(): TestContext {
  const ctx = {} as TestContext;
  beforeEach(() => {
    const hevy = new FakeHevy();
    Object.assign(ctx, contextAround(hevy, (request) => hevy.fetch(request)));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  return ctx;
}

/**
 * A test context around `hevy`: recording queues, the env that uses them, and every outbound fetch
 * stubbed — Hevy's base URL to `toHevy`, origins registered in `outbound` to their handler, anything
 * else fails the test. useTestContext and useSyncContext (test/sync-helpers.ts) differ only in
 * the fake and what stands before it.
 */
export function contextAround(hevy: FakeHevy, toHevy: (request: Request) => Promise<Response>): TestContext {
  const queue = new RecordingQueue();
  const webhookQueue = new RecordingQueue<WebhookDeliveryMessage>();
  const outbound = new Map<string, (request: Request) => Promise<Response>>();
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url.startsWith(HEVY_BASE)) return toHevy(request);
    const handler = outbound.get(new URL(request.url).origin);
    if (handler) return handler(request);
    throw new Error(`unexpected outbound request in a test: ${request.url}`);
  });
  const testEnv = {
    ...env,
    SYNC_QUEUE: queue as unknown as Env["SYNC_QUEUE"],
    WEBHOOK_QUEUE: webhookQueue as unknown as Env["WEBHOOK_QUEUE"],
  } as Env;
  return {
    hevy, queue, webhookQueue, outbound, env: testEnv,
    request: (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => callWorker(testEnv, path, init),
  };
}

/** An app of the test's own (createApp with a controlled clock, counted D1…) instead of the Worker's. */
interface OwnApp {
  fetch(request: Request, env?: unknown, ctx?: ExecutionContext): Response | Promise<Response>;
}

export async function callWorker(
  testEnv: Env,
  path: string,
  { token, json, app, ...init }: RequestInit & { token?: string; json?: unknown; app?: OwnApp } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  let body = init.body;
  if (json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(json);
  }
  const execCtx = createExecutionContext();
  const url = `https://vitaltrends.test${path}`;
  const res = await (app ?? worker).fetch(new Request(url, { ...init, headers, body }), testEnv, execCtx);
  await waitOnExecutionContext(execCtx);
  // Every API answer a test sees is checked against the OpenAPI document (test/api-contract.ts).
  await checkContract(init.method ?? "GET", url, res);
  return res;
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

let userCounter = 0;
export async function createUser(t: Pick<TestContext, "request">, timezone = "UTC"): Promise<TestUser> {
  const email = `user${++userCounter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const res = await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json: { email, timezone } });
  if (res.status !== 201) throw new Error(`createUser: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string; email: string }; api_token: string };
  return { id: body.user.id, email: body.user.email, token: body.api_token };
}

export async function expectProblem(res: Response, status: number, code: string) {
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected problem+json ${status} ${code}, got ${res.status}: ${text}`);
  }
  if (res.status !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status}: ${text}`);
  }
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected application/problem+json, got ${res.headers.get("content-type")}`);
  }
  for (const field of ["type", "title", "status", "detail", "code", "request_id"]) {
    if (!(field in body)) throw new Error(`problem lacks ${field}: ${text}`);
  }
  return body as { errors?: Array<{ path: string; message: string }>; detail: string; request_id: string };
}

/**
 * The database holding `userId`'s rows (SPEC §12): their shard, named by the directory; the
 * directory itself for a user placed before sharding (or unknown).
 */
export async function dbOf(userId: string): Promise<D1Database> {
  const db = (env as unknown as Record<string, D1Database | undefined>)[await bindingOf(userId)];
  if (!db) throw new Error(`no binding for ${userId}'s shard`);
  return db;
}

/** The shard holding the user's rows as the directory names it (null: the directory itself, or no such user). */
export async function shardOf(userId: string): Promise<number | null> {
  return (await env.DB.prepare("SELECT shard FROM users WHERE id = ?").bind(userId).first<{ shard: number | null }>())?.shard ?? null;
}

/** The name of the binding of `userId`'s database: their shard's, or the directory's. */
export async function bindingOf(userId: string): Promise<string> {
  const shard = await shardOf(userId);
  return shard === null ? "DB" : `SHARD_${shard}`;
}

/** Every database that may hold users' rows: the directory (users placed before sharding) and each shard. */
export const dataDbs = (): D1Database[] => [env.DB, env.SHARD_0, env.SHARD_1];

/** Deps serving `userId` (their shard), as a request or queue message for them would get. */
export async function depsFor(userId: string, overrides: Partial<Deps> = {}): Promise<Deps> {
  return forShard(await createDeps(env as unknown as Env, overrides), await shardOf(userId));
}
