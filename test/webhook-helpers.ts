import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { expect, vi } from "vitest";
import type { Env } from "../src/env";
import { type ConsumerOptions, handleQueueBatch } from "../src/queue/consumer";
import type { WebhookDeliveryMessage } from "../src/queue/messages";
import { callWorker, type TestContext, type TestUser } from "./helpers";

// Outgoing webhooks in tests (SPEC §15): consumer endpoints that record what they receive, the
// WEBHOOK_QUEUE consumer run by hand on what the app queued, and every delivery verified with the
// reference Standard Webhooks library (npm `standardwebhooks`), not with the app's own signing.

export const WEBHOOK_QUEUE = "vitaltrends-hevy-webhooks";
export const ENDPOINTS = "/api/v1/webhook-endpoints";

export interface Received {
  url: string;
  method: string;
  redirect: string;
  headers: Record<string, string>;
  body: string;
  request: Request;
}

export type Answer = (request: Request, n: number) => Response | Promise<Response>;

/** A consumer endpoint at `origin` answering with `answer` (200 by default); what it received, in order. */
export function receiver(t: TestContext, origin: string, answer: Answer = () => new Response("ok")): { received: Received[]; answer: Answer } {
  const state = { received: [] as Received[], answer };
  t.outbound.set(origin, async (request) => {
    const body = await request.text();
    state.received.push({ url: request.url, method: request.method, redirect: request.redirect, headers: Object.fromEntries(request.headers), body, request });
    return state.answer(request, state.received.length);
  });
  return state;
}

/** An env that allows http://localhost and http://127.0.0.1 endpoints, with the context's queues. */
export const insecureEnv = (t: TestContext) => ({ ...t.env, ALLOW_INSECURE_WEBHOOK_URLS: "true" }) as Env;

export interface CreatedEndpoint {
  id: string;
  url: string;
  secret: string;
  events: string[];
}

export async function createEndpoint(t: TestContext, user: TestUser, body: Record<string, unknown>): Promise<CreatedEndpoint> {
  const res = await t.request(ENDPOINTS, { method: "POST", token: user.token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

/** POST …/{id}/test: the ping's event id. */
export async function ping(t: TestContext, user: TestUser, endpointId: string): Promise<string> {
  const res = await t.request(`${ENDPOINTS}/${endpointId}/test`, { method: "POST", token: user.token });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { event_id: string }).event_id;
}

export interface DeliveryListItem {
  event_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  attempts: Array<{ attempt: number; at: string; duration_ms: number; status_code: number | null; error: string | null }>;
}

export async function deliveries(t: TestContext, user: TestUser, endpointId: string, query = ""): Promise<DeliveryListItem[]> {
  const res = await t.request(`${ENDPOINTS}/${endpointId}/deliveries${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: DeliveryListItem[] }).data;
}

export async function endpointView(t: TestContext, user: TestUser, endpointId: string): Promise<Record<string, unknown>> {
  const res = await t.request(`${ENDPOINTS}/${endpointId}`, { token: user.token });
  expect(res.status).toBe(200);
  return res.json();
}

/** Runs the WEBHOOK_QUEUE consumer on `bodies` as one batch; each message's outcome. */
export async function runWebhookBatch(t: Pick<TestContext, "env">, bodies: unknown[], options: ConsumerOptions = {}, env: Env = t.env) {
  const batch = createMessageBatch<unknown>(WEBHOOK_QUEUE, bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })));
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, env, options);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryDelays: retries.map((r) => r.mock.calls[0]?.[0]?.delaySeconds) };
}

/** Delivers what the app queued for now (not the delayed retries), batch after batch, until nothing is left. */
export async function drainWebhooks(t: TestContext, options: ConsumerOptions = {}): Promise<void> {
  for (let round = 0; t.webhookQueue.messages.length > 0; round++) {
    if (round > 20) throw new Error("the webhook queue did not drain");
    await runWebhookBatch(t, t.webhookQueue.take(), options);
  }
}

/** The delayed messages (retries), taken out of the queue: their bodies and the delays asked for. */
export function takeDelayed(t: TestContext): Array<{ body: WebhookDeliveryMessage; delaySeconds: number }> {
  return t.webhookQueue.delayed.splice(0);
}

/**
 * Verifies a received delivery with the reference library, at the delivery's own time (its
 * webhook-timestamp: the library refuses one more than 5 minutes from its clock, and tests move
 * the app's clock). Returns the parsed body; throws when no signature matches.
 */
export function verifyWith(secret: string, r: Received): unknown {
  const at = Number(r.headers["webhook-timestamp"]) * 1000;
  const clock = vi.spyOn(Date, "now").mockReturnValue(at);
  try {
    return new Webhook(secret).verify(r.body, r.headers);
  } finally {
    clock.mockRestore();
  }
}

/** The signatures of a delivery, as the header lists them. */
export const signaturesOf = (r: Received) => r.headers["webhook-signature"]!.split(" ");

/** A consumer-side clock for the app (deps.now): starts at `start`, moved by the test. */
export function clockAt(start: number) {
  const clock = { now: start, options: {} as ConsumerOptions };
  clock.options = { deps: { now: () => clock.now } };
  return clock;
}

/** Calls the Worker with another env (e.g. insecureEnv), through the same contract check as t.request. */
export const requestWith = (env: Env) => (path: string, init?: RequestInit & { token?: string; json?: unknown }) => callWorker(env, path, init);
