import { describe, expect, it } from "vitest";
import { markNeedsReconnect } from "../src/services/sync/connection-state";
import { createUser, dbOf, depsFor, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill } from "./queue-helpers";
import { CONN, connected, connectionRow, deltaOptions, failMatching, putWorkout, requestSync, sendWebhook, useSyncContext } from "./sync-helpers";

// SPEC §15, the outbox: an event is written by the batch that makes the change it announces, and
// fanned out there to the endpoints subscribed then. What a consumer would get is read from the
// outbox (webhook_events, webhook_deliveries) and the WEBHOOK_QUEUE messages sent after the batch.

const HOUR = 3_600_000;

/** An enabled endpoint of `userId`'s, written directly (the endpoints API has its own tests). */
async function endpoint(userId: string, events = ["hevy.workout.created", "hevy.workout.updated", "hevy.workout.deleted", "hevy.backfill.completed", "hevy.connection.needs_reconnect"]) {
  const id = `ep_${crypto.randomUUID().slice(0, 8)}`;
  await (await dbOf(userId)).prepare(
    "INSERT INTO webhook_endpoints (id, user_id, url, events, secret_envelope, created_at) VALUES (?, ?, 'https://consumer.test/hook', ?, 'not-a-real-envelope', 0)",
  ).bind(id, userId, JSON.stringify(events)).run();
  return id;
}

interface EventRow { id: string; type: string; subject: string | null; data: string }
const events = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT id, type, subject, data FROM webhook_events WHERE user_id = ? ORDER BY created_at, rowid").bind(userId).all<EventRow>()).results;
const deliveries = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT endpoint_id, event_id, status FROM webhook_deliveries WHERE user_id = ? ORDER BY rowid").bind(userId).all<{ endpoint_id: string; event_id: string; status: string }>()).results;
const types = async (userId: string) => (await events(userId)).map((e) => e.type);

/** A user whose endpoint exists before connecting, then backfilled: `history` workouts. */
async function listening(t: TestContext, history = 4) {
  const user = await createUser(t);
  const ep = await endpoint(user.id);
  const account = t.hevy.createAccount();
  t.hevy.generateHistory(account.apiKey, history, { seed: 7, end: new Date(Date.now() - 86_400_000) });
  const res = await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(res.status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  return { user, apiKey: account.apiKey, ep };
}

async function delta(t: TestContext, user: TestUser) {
  let clock = Date.now() + HOUR;
  await requestSync(t, user);
  await drainQueue(t, deltaOptions({ deps: { now: () => (clock += 5) } }));
}

describe("outgoing webhook events: written with the change they announce", () => {
  const t = useSyncContext();

  it("a backfill announces its completion once with the number of workouts, and no workout one by one", async () => {
    const { user, ep } = await listening(t, 4);
    const all = await events(user.id);
    expect(all.map((e) => e.type)).toEqual(["hevy.backfill.completed"]);
    expect(JSON.parse(all[0]!.data)).toEqual({ workouts_synced: 4 });
    expect(await deliveries(user.id)).toEqual([{ endpoint_id: ep, event_id: all[0]!.id, status: "pending" }]);
    expect(t.webhookQueue.take()).toEqual([{ type: "webhook_delivery", userId: user.id, endpointId: ep, eventId: all[0]!.id }]);

    // A sync with nothing new announces nothing.
    await delta(t, user);
    expect(await types(user.id)).toEqual(["hevy.backfill.completed"]);
    expect(t.webhookQueue.take()).toEqual([]);
  });

  it("a delta announces each created, updated and deleted workout once, with the workout as the API shows it", async () => {
    const { user, apiKey, ep } = await listening(t, 3);
    const [a, b] = t.hevy.listWorkouts(apiKey);
    putWorkout(t, apiKey, { id: a!.id, start_time: a!.start_time, end_time: a!.end_time, title: "Edited", weight: 142.5 });
    t.hevy.deleteWorkout(apiKey, b!.id);
    const created = putWorkout(t, apiKey, { title: "Brand new", weight: 117.25 });
    t.webhookQueue.take();
    await delta(t, user);

    const after = (await events(user.id)).slice(1);
    expect(after.map((e) => [e.type, e.subject]).sort()).toEqual([
      ["hevy.workout.created", created.id],
      ["hevy.workout.deleted", b!.id],
      ["hevy.workout.updated", a!.id],
    ].sort());
    // The data of created/updated is exactly what GET /api/v1/workouts/hevy/{id} answers now.
    for (const e of after.filter((x) => x.type !== "hevy.workout.deleted")) {
      const res = await t.request(`/api/v1/workouts/hevy/${e.subject}`, { token: user.token });
      expect(JSON.parse(e.data)).toEqual(await res.json());
    }
    expect(JSON.parse(after.find((e) => e.type === "hevy.workout.deleted")!.data)).toEqual({ id: b!.id });
    const sent = t.webhookQueue.take();
    expect(sent.map((m) => m.eventId).sort()).toEqual(after.map((e) => e.id).sort());
    expect(sent.every((m) => m.endpointId === ep && m.userId === user.id)).toBe(true);

    // The same feed read again (the delta's overlap, a retried run) changes nothing and announces nothing.
    await delta(t, user);
    expect(await events(user.id)).toHaveLength(4);
    expect(t.webhookQueue.take()).toEqual([]);
  });

  it("a duplicate Hevy webhook, or one for an unchanged workout, announces nothing", async () => {
    const { user, apiKey } = await listening(t, 1);
    const w = putWorkout(t, apiKey, { title: "Leg day" });
    for (let i = 0; i < 3; i++) expect((await sendWebhook(t, apiKey, w.id)).status).toBe(200);
    await drainQueue(t, deltaOptions());
    expect(await types(user.id)).toEqual(["hevy.backfill.completed", "hevy.workout.created"]);
    expect((await deliveries(user.id)).length).toBe(2);
  });

  it("deleting a workout never stored, or one already deleted, announces nothing", async () => {
    const { user, apiKey } = await listening(t, 2);
    const [a] = t.hevy.listWorkouts(apiKey);
    const ghost = putWorkout(t, apiKey, { title: "Gone before we saw it" });
    t.hevy.deleteWorkout(apiKey, ghost.id);
    t.hevy.deleteWorkout(apiKey, a!.id);
    await delta(t, user);
    expect((await events(user.id)).map((e) => [e.type, e.subject])).toEqual([["hevy.backfill.completed", null], ["hevy.workout.deleted", a!.id]]);
  });

  it("fans out only to the user's enabled endpoints subscribed to the type; another user's endpoint gets nothing", async () => {
    const { user, apiKey, ep } = await listening(t, 1);
    const deletesOnly = await endpoint(user.id, ["hevy.workout.deleted"]);
    const disabled = await endpoint(user.id);
    await (await dbOf(user.id)).prepare("UPDATE webhook_endpoints SET disabled_at = 1 WHERE id = ?").bind(disabled).run();
    const other = await createUser(t);
    const theirs = await endpoint(other.id);
    const w = putWorkout(t, apiKey, { title: "New" });
    await delta(t, user);
    t.hevy.deleteWorkout(apiKey, w.id);
    await delta(t, user);
    const byEndpoint = (await deliveries(user.id)).reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.endpoint_id]: (acc[d.endpoint_id] ?? 0) + 1 }), {});
    expect(byEndpoint).toEqual({ [ep]: 3, [deletesOnly]: 1 }); // completed + created + deleted; the deletion only
    expect((await deliveries(other.id)).filter((d) => d.endpoint_id === theirs)).toEqual([]);
  });

  it("writes no event nobody subscribes to: an endpoint for deletions only gets no created or updated rows", async () => {
    const { user, apiKey } = await connected(t, 2);
    await endpoint(user.id, ["hevy.workout.deleted"]);
    const [a] = t.hevy.listWorkouts(apiKey);
    putWorkout(t, apiKey, { title: "Unwatched" });
    t.hevy.deleteWorkout(apiKey, a!.id);
    await delta(t, user);
    expect((await events(user.id)).map((e) => [e.type, e.subject])).toEqual([["hevy.workout.deleted", a!.id]]);
  });

  it("a user without an enabled endpoint gets no outbox rows at all", async () => {
    const { user, apiKey } = await connected(t, 2);
    putWorkout(t, apiKey, { title: "Unheard" });
    await delta(t, user);
    expect(await events(user.id)).toEqual([]);
    expect(t.webhookQueue.take()).toEqual([]);
  });

  it("announces the flip to needs_reconnect once: a second 401 on the flipped connection announces nothing", async () => {
    const { user } = await listening(t, 1);
    failMatching(t, (url) => url.pathname === "/v1/workouts/events", 401);
    await delta(t, user);
    expect((await connectionRow(user.id))!.status).toBe("needs_reconnect");
    // Another job that held the same key hits its own 401 afterwards (called directly: a sync of a
    // flipped connection is refused before it could).
    const scope = { userId: user.id, epoch: (await connectionRow(user.id))!.key_epoch as string, rollupZone: null };
    await markNeedsReconnect(await depsFor(user.id, { webhookQueue: t.webhookQueue as never }), scope, null, Date.now() + 2 * HOUR);
    const flips = (await events(user.id)).filter((e) => e.type === "hevy.connection.needs_reconnect");
    expect(flips).toHaveLength(1);
    expect(JSON.parse(flips[0]!.data)).toEqual({ reason: expect.stringContaining("Hevy rejected the API key") });
  });

  it("two batches that store the same version in the same millisecond announce it once", async () => {
    const { user, apiKey } = await listening(t, 1);
    const w = putWorkout(t, apiKey, { title: "Same instant" });
    // Workers' clock stands still between I/O: two runs reading the same feed can share `now`.
    const at = Date.now() + HOUR;
    for (let i = 0; i < 2; i++) {
      await requestSync(t, user);
      await drainQueue(t, deltaOptions({ deps: { now: () => at } }));
    }
    expect((await events(user.id)).map((e) => [e.type, e.subject])).toEqual([["hevy.backfill.completed", null], ["hevy.workout.created", w.id]]);
  });

  it("a purge of the Hevy data takes its events and pending deliveries with it; the endpoint stays", async () => {
    const { user, apiKey, ep } = await listening(t, 2);
    putWorkout(t, apiKey, { title: "To be purged" });
    await delta(t, user);
    expect((await deliveries(user.id)).length).toBe(2);
    const res = await t.request(`${CONN}?purge=true`, { method: "DELETE", token: user.token });
    expect(res.status).toBe(204);
    expect(await events(user.id)).toEqual([]);
    expect(await deliveries(user.id)).toEqual([]);
    const endpoints = await (await dbOf(user.id)).prepare("SELECT id FROM webhook_endpoints WHERE user_id = ?").bind(user.id).all<{ id: string }>();
    expect(endpoints.results.map((r) => r.id)).toEqual([ep]);
  });
});
