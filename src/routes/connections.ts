import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { documented, isoInstant } from "../lib/openapi";
import { jsonBody, validate } from "../lib/validation";
import {
  disconnectHevy,
  getConnectionView,
  requestSync,
  rotateWebhookSecret,
} from "../services/connections";
import { connectHevy } from "../services/connect";

const connectBody = z.strictObject({
  // Hevy keys are UUIDs; anything else is refused before Hevy is called.
  api_key: z.guid("must be a Hevy API key (a UUID)"),
});

const disconnectQuery = z.strictObject({
  purge: z.enum(["true", "false"]).optional(),
});

const connection = z
  .strictObject({
    status: z.enum(["active", "needs_reconnect", "disconnected"]).describe("needs_reconnect: Hevy refused the stored key; PUT a new one"),
    hevy_user: z.strictObject({ id: z.string(), name: z.string() }),
    webhook: z.strictObject({ status: z.enum(["subscribed", "unavailable", "failed"]), url: z.string().nullable() }),
    backfill: z.strictObject({
      state: z.enum(["queued", "running", "done", "failed"]),
      pages_done: z.number().int(),
      page_count: z.number().int().nullable(),
      workouts_synced: z.number().int(),
    }),
    skipped_workouts: z.number().int().describe("Workouts Hevy sent that could not be stored yet"),
    last_sync_at: isoInstant.nullable(),
    last_error: z.string().nullable(),
    connected_at: isoInstant,
  })
  .meta({ id: "HevyConnection" });

const tags = ["Hevy connection"];

export const connectionRoutes = new Hono<AppEnv>()
  .put(
    "/",
    documented({
      summary: "Connect Hevy (or replace the key)", tags, auth: "user", errors: [400, 409, 415, 422, 502, 503],
      description: "Validates the key with Hevy, stores it encrypted, subscribes Hevy's webhook when Hevy allows it and queues the backfill.",
      ok: { 202: { description: "Connected; the backfill is queued", schema: connection } },
    }),
    ...jsonBody(connectBody),
    async (c) => c.json(await connectHevy(c.var.deps, c.var.user.id, c.req.valid("json").api_key), 202),
  )
  .get(
    "/",
    documented({ summary: "The Hevy connection and its sync state", tags, auth: "user", errors: [404], ok: { 200: { description: "The connection", schema: connection } } }),
    async (c) => c.json(await getConnectionView(c.var.deps, c.var.user.id)),
  )
  .delete(
    "/",
    documented({
      summary: "Disconnect Hevy", tags, auth: "user", errors: [400, 404, 503],
      description: "Unsubscribes the webhook and forgets the key; `purge=true` also deletes the synced rows.",
      ok: { 204: { description: "Disconnected" } },
    }),
    validate("query", disconnectQuery),
    async (c) => {
      await disconnectHevy(c.var.deps, c.var.user.id, c.req.valid("query").purge === "true");
      return c.body(null, 204);
    },
  )
  .post(
    "/webhook-secret",
    documented({ summary: "Rotate the Hevy webhook secret", tags, auth: "user", errors: [404, 409, 502, 503], ok: { 200: { description: "The connection with its new webhook URL", schema: connection } } }),
    async (c) => c.json(await rotateWebhookSecret(c.var.deps, c.var.user.id)),
  )
  .post(
    "/sync",
    documented({ summary: "Sync now", tags, auth: "user", errors: [404, 409, 503], ok: { 202: { description: "A delta sync is queued (or one is already running)", schema: connection } } }),
    async (c) => c.json(await requestSync(c.var.deps, c.var.user.id), 202),
  );
