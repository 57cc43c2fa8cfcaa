import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
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

export const connectionRoutes = new Hono<AppEnv>()
  .put("/", ...jsonBody(connectBody), async (c) => {
    const view = await connectHevy(c.var.deps, c.var.user.id, c.req.valid("json").api_key);
    return c.json(view, 202);
  })
  .get("/", async (c) => c.json(await getConnectionView(c.var.deps, c.var.user.id)))
  .delete("/", validate("query", disconnectQuery), async (c) => {
    await disconnectHevy(c.var.deps, c.var.user.id, c.req.valid("query").purge === "true");
    return c.body(null, 204);
  })
  .post("/webhook-secret", async (c) => c.json(await rotateWebhookSecret(c.var.deps, c.var.user.id)))
  .post("/sync", async (c) => c.json(await requestSync(c.var.deps, c.var.user.id), 202));
