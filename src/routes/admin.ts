import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { canonicalTimeZone, isValidTimeZone } from "../lib/time";
import { jsonBody, validate } from "../lib/validation";
import { requireAdmin } from "../lib/middleware";
import { keyRotationStatusEverywhere } from "../services/key-rotation";
import { moveLegacyUsers, requestMove } from "../services/move-user";
import { changeTimezone, createUser, userView } from "../services/users";

const timezone = z
  .string()
  .refine(isValidTimeZone, "must be an IANA time zone such as Europe/Berlin")
  .transform(canonicalTimeZone);

const createUserBody = z.strictObject({
  email: z.email().max(254),
  timezone: timezone.default("UTC"),
});

const updateUserBody = z.strictObject({ timezone });

const moveBody = z.strictObject({ shard: z.number().int().min(0).max(999) });

const userIdParam = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, "not a user id") });

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .post("/users", ...jsonBody(createUserBody), async (c) => {
    const { user, apiToken } = await createUser(c.var.deps, c.req.valid("json"));
    return c.json({ user: userView(user), api_token: apiToken }, 201);
  })
  // A user's time zone (weeks, wake-up days); their weekly rollups are rebuilt in the new zone.
  .patch("/users/:id", validate("param", userIdParam), ...jsonBody(updateUserBody), async (c) =>
    c.json(userView(await changeTimezone(c.var.deps, c.req.valid("param").id, c.req.valid("json").timezone))),
  )
  // The upgrade from one database: moves users still in DB to the emptiest shards, 100 per call.
  .post("/users/move-legacy", async (c) => c.json(await moveLegacyUsers(c.var.deps), 202))
  // Moves a user's rows to another shard (SPEC §12): copy, switch, delete, in a queued job.
  .post("/users/:id/move", validate("param", userIdParam), ...jsonBody(moveBody), async (c) =>
    c.json(await requestMove(c.var.deps, c.req.valid("param").id, c.req.valid("json").shard), 202),
  )
  // After a KEY_ENCRYPTION_KEY rotation: the old key may be retired once envelopes_under_old_keys is 0.
  .get("/key-rotation", async (c) => {
    const { remaining, unreadable } = await keyRotationStatusEverywhere(c.var.deps);
    return c.json({ current_kid: c.var.deps.keyring.currentKid, envelopes_under_old_keys: remaining, unreadable_envelopes: unreadable });
  });
