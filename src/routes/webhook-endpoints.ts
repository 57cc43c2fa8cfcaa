import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { cursorParam, limitParam } from "../lib/list-query";
import { documented, isoInstant, listOf } from "../lib/openapi";
import { jsonBody, validate } from "../lib/validation";
import {
  createEndpoint,
  DESCRIPTION_MAX,
  deleteEndpoint,
  enableEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  MAX_WEBHOOK_ENDPOINTS,
  rotateEndpointSecret,
  sendTestEvent,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_URL_MAX,
} from "../services/webhook-endpoints";

// Outgoing webhooks (SPEC §15): /api/v1/webhook-endpoints.

const eventType = z.enum(WEBHOOK_EVENT_TYPES);

const createBody = z.strictObject({
  url: z.string().min(1, "must be an https URL").max(WEBHOOK_URL_MAX)
    .describe("Where events are POSTed: https only (http://localhost and http://127.0.0.1 only where the deployment allows insecure URLs), no credentials"),
  events: z.array(eventType).min(1, "subscribe to at least one event type").max(20).optional()
    .describe("Event types to receive; duplicates collapse. Default: all of them"),
  description: z.string().max(DESCRIPTION_MAX).regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters").nullable().optional(),
});

const listQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
const deliveriesQuery = z.strictObject({
  limit: limitParam,
  cursor: cursorParam,
  status: z.enum(["pending", "delivered", "failed"]).optional(),
});

const endpointView = z
  .strictObject({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(eventType),
    status: z.enum(["enabled", "disabled"]).describe("disabled: no event is sent to it (see disabled_reason); POST …/enable to receive events again"),
    disabled_at: isoInstant.nullable(),
    disabled_reason: z.string().nullable().describe("Why it was disabled, e.g. \"failing for 5 days\""),
    failing_since: isoInstant.nullable().describe("The first failed attempt since the last successful one; null while it answers"),
    previous_secret_expires_at: isoInstant.nullable().describe("After a rotation: until when the previous secret also signs"),
    created_at: isoInstant,
  })
  .meta({ id: "WebhookEndpoint" });

const endpointWithSecret = endpointView
  .extend({ secret: z.string().describe("whsec_…: the signing secret, shown only in this answer") })
  .meta({ id: "WebhookEndpointWithSecret" });

const attemptView = z.strictObject({
  attempt: z.number().int().describe("1 to 8"),
  at: isoInstant,
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable().describe("The endpoint's HTTP status; null when it did not answer"),
  error: z.string().nullable().describe("Why the attempt failed without a status (timeout, connection), or \"redirect not followed\""),
});

const deliveryView = z
  .strictObject({
    event_id: z.string().describe("The webhook-id header of every attempt"),
    event_type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]).describe("failed: the 8 attempts failed, or the endpoint was disabled"),
    attempt_count: z.number().int(),
    next_attempt_at: isoInstant.nullable().describe("When the next attempt is due (pending only)"),
    last_attempt_at: isoInstant.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: isoInstant,
    attempts: z.array(attemptView).describe("Every attempt, oldest first"),
  })
  .meta({ id: "WebhookDelivery" });

const endpointId = { id: { schema: z.uuid(), description: "The endpoint's id" } };
const tags = ["Webhook endpoints"];

export const webhookEndpointRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Register a webhook endpoint", tags, auth: "user", errors: [400, 409, 415, 503],
      description:
        `Events are POSTed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). The answer carries the signing secret, shown only here. ` +
        `At most ${MAX_WEBHOOK_ENDPOINTS} endpoints per user (409 webhook_endpoint_limit).`,
      ok: { 201: { description: "Registered", schema: endpointWithSecret, headers: { location: "/api/v1/webhook-endpoints/{id}" } } },
    }),
    ...jsonBody(createBody),
    async (c) => {
      const created = await createEndpoint(c.var.deps, c.var.user.id, c.req.valid("json"), {
        allowInsecureUrls: c.env.ALLOW_INSECURE_WEBHOOK_URLS === "true",
      });
      c.header("location", `/api/v1/webhook-endpoints/${created.id}`);
      return c.json(created, 201);
    },
  )
  .get(
    "/",
    documented({ summary: "List webhook endpoints", tags, auth: "user", errors: [400], ok: { 200: { description: "Newest first", schema: listOf(endpointView) } } }),
    validate("query", listQuery),
    async (c) => c.json(await listEndpoints(c.var.deps, c.var.user.id, c.req.valid("query"))),
  )
  .get(
    "/:id",
    documented({ summary: "A webhook endpoint", tags, auth: "user", errors: [404], params: endpointId, ok: { 200: { description: "The endpoint (never its secret)", schema: endpointView } } }),
    async (c) => c.json(await getEndpoint(c.var.deps, c.var.user.id, c.req.param("id"))),
  )
  .delete(
    "/:id",
    documented({
      summary: "Delete a webhook endpoint", tags, auth: "user", errors: [404, 503], params: endpointId,
      description: "Nothing more is sent to it: its pending deliveries are deleted with its delivery history.",
      ok: { 204: { description: "Deleted" } },
    }),
    async (c) => {
      await deleteEndpoint(c.var.deps, c.var.user.id, c.req.param("id"));
      return c.body(null, 204);
    },
  )
  .post(
    "/:id/rotate-secret",
    documented({
      summary: "Rotate the signing secret", tags, auth: "user", errors: [404, 409, 503], params: endpointId,
      description: "The new secret signs from now on; for 24 h the previous one signs too (two signatures in webhook-signature).",
      ok: { 200: { description: "The endpoint with its new secret, shown only here", schema: endpointWithSecret } },
    }),
    async (c) => c.json(await rotateEndpointSecret(c.var.deps, c.var.user.id, c.req.param("id"))),
  )
  .post(
    "/:id/enable",
    documented({
      summary: "Enable a disabled webhook endpoint", tags, auth: "user", errors: [404, 503], params: endpointId,
      description: "Events from now on are sent to it again; what happened while it was disabled is not.",
      ok: { 200: { description: "The endpoint", schema: endpointView } },
    }),
    async (c) => c.json(await enableEndpoint(c.var.deps, c.var.user.id, c.req.param("id"))),
  )
  .post(
    "/:id/test",
    documented({
      summary: "Send a test event", tags, auth: "user", errors: [404, 409, 503], params: endpointId,
      description: "Queues a `ping` event (`{\"type\":\"ping\",\"timestamp\",\"data\":{}}`) for this endpoint only, signed and retried like any event. 409 endpoint_disabled for a disabled endpoint.",
      ok: { 202: { description: "Queued", schema: z.strictObject({ event_id: z.string().describe("Its webhook-id; find it in …/deliveries") }) } },
    }),
    async (c) => c.json(await sendTestEvent(c.var.deps, c.var.user.id, c.req.param("id")), 202),
  )
  .get(
    "/:id/deliveries",
    documented({
      summary: "Deliveries to a webhook endpoint", tags, auth: "user", errors: [400, 404], params: endpointId,
      description: "Newest first, each with every attempt (time, duration, status code or error). Kept 30 days.",
      ok: { 200: { description: "A page of deliveries", schema: listOf(deliveryView) } },
    }),
    validate("query", deliveriesQuery),
    async (c) => c.json(await listDeliveries(c.var.deps, c.var.user.id, c.req.param("id"), c.req.valid("query"))),
  );
