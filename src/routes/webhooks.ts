import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readTextLimited } from "../lib/body";
import { acceptWebhookDelivery } from "../services/webhooks";

export const WEBHOOK_BODY_LIMIT = 64 * 1024;

export const webhookRoutes = new Hono<AppEnv>().post("/hevy/:secret", async (c) => {
  const outcome = await acceptWebhookDelivery(c.var.deps, c.req.param("secret"), c.req.header("authorization"), () =>
    readTextLimited(c.req.raw, WEBHOOK_BODY_LIMIT),
  );
  return c.json({ status: outcome });
});
