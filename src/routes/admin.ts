import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { canonicalTimeZone, isValidTimeZone } from "../lib/time";
import { documented } from "../lib/openapi";
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

const user = z.strictObject({ id: z.string(), email: z.string(), timezone: z.string() }).meta({ id: "User" });
const moveState = z.strictObject({ id: z.string(), shard: z.number().int().nullable(), moving_to: z.number().int().nullable() });
const tags = ["Admin"];

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .post(
    "/users",
    documented({
      summary: "Create a user and their API token", tags, auth: "admin", errors: [400, 409, 415],
      description: "The token is shown once. The user is placed on the emptiest shard.",
      ok: { 201: { description: "Created", schema: z.strictObject({ user, api_token: z.string().describe("vt_…; shown once") }) } },
    }),
    ...jsonBody(createUserBody),
    async (c) => {
      const { user, apiToken } = await createUser(c.var.deps, c.req.valid("json"));
      return c.json({ user: userView(user), api_token: apiToken }, 201);
    },
  )
  // A user's time zone (weeks, wake-up days); their weekly rollups are rebuilt in the new zone.
  .patch(
    "/users/:id",
    documented({ summary: "Change a user's time zone", tags, auth: "admin", errors: [400, 404, 409, 415], ok: { 200: { description: "The user", schema: user } } }),
    validate("param", userIdParam),
    ...jsonBody(updateUserBody),
    async (c) => c.json(userView(await changeTimezone(c.var.deps, c.req.valid("param").id, c.req.valid("json").timezone))),
  )
  // The upgrade from one database: moves users still in DB to the emptiest shards, 100 per call.
  .post(
    "/users/move-legacy",
    documented({
      summary: "Move users placed before sharding onto shards", tags, auth: "admin", errors: [409],
      description: "Up to 100 users a call; call again while `remaining` is above 0.",
      ok: { 202: { description: "Moves queued", schema: z.strictObject({ queued: z.number().int(), remaining: z.number().int() }) } },
    }),
    async (c) => c.json(await moveLegacyUsers(c.var.deps), 202),
  )
  // Moves a user's rows to another shard (SPEC §12): copy, switch, delete, in a queued job.
  .post(
    "/users/:id/move",
    documented({ summary: "Move a user to another shard", tags, auth: "admin", errors: [400, 404, 409, 415], ok: { 202: { description: "The move is queued (or the user is there already)", schema: moveState } } }),
    validate("param", userIdParam),
    ...jsonBody(moveBody),
    async (c) => c.json(await requestMove(c.var.deps, c.req.valid("param").id, c.req.valid("json").shard), 202),
  )
  // After a KEY_ENCRYPTION_KEY rotation: the old key may be retired once envelopes_under_old_keys is 0.
  .get(
    "/key-rotation",
    documented({
      summary: "Progress of a key rotation", tags, auth: "admin",
      ok: { 200: { description: "Envelopes still under old keys", schema: z.strictObject({ current_kid: z.string(), envelopes_under_old_keys: z.number().int(), unreadable_envelopes: z.number().int() }) } },
    }),
    async (c) => {
      const { remaining, unreadable } = await keyRotationStatusEverywhere(c.var.deps);
      return c.json({ current_kid: c.var.deps.keyring.currentKid, envelopes_under_old_keys: remaining, unreadable_envelopes: unreadable });
    },
  );
