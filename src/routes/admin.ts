import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { canonicalTimeZone, isValidTimeZone } from "../lib/time";
import { jsonBody } from "../lib/validation";
import { requireAdmin } from "../lib/middleware";
import { keyRotationStatus } from "../services/key-rotation";
import { createUser } from "../services/users";

const createUserBody = z.strictObject({
  email: z.email().max(254),
  timezone: z
    .string()
    .refine(isValidTimeZone, "must be an IANA time zone such as Europe/Berlin")
    .transform(canonicalTimeZone)
    .default("UTC"),
});

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .post("/users", ...jsonBody(createUserBody), async (c) => {
    const { user, apiToken } = await createUser(c.var.deps, c.req.valid("json"));
    return c.json({ user, api_token: apiToken }, 201);
  })
  // After a KEY_ENCRYPTION_KEY rotation: the old key may be retired once envelopes_under_old_keys is 0.
  .get("/key-rotation", async (c) => {
    const { remaining, unreadable } = await keyRotationStatus(c.var.deps);
    return c.json({ current_kid: c.var.deps.keyring.currentKid, envelopes_under_old_keys: remaining, unreadable_envelopes: unreadable });
  });
