import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rotateEndpointSecret, WEBHOOK_EVENT_TYPES } from "../src/services/webhook-endpoints";
import { createUser, dbOf, depsFor, expectProblem, useTestContext } from "./helpers";
import {
  createEndpoint, deliveries, drainWebhooks, ENDPOINTS, endpointView, insecureEnv, ping, receiver, requestWith, runWebhookBatch, signaturesOf, verifyWith,
} from "./webhook-helpers";

// /api/v1/webhook-endpoints (SPEC §15): registering, reading, rotating, testing and deleting
// endpoints; what is validated, what is shown once, and what another user can never reach.

const CONSUMER = "https://consumer.test";
const SECRET = /^whsec_([A-Za-z0-9+/]{43}=)$/;

describe("POST /api/v1/webhook-endpoints", () => {
  const t = useTestContext();

  it("registers an endpoint: every event type by default, the secret once, encrypted at rest", async () => {
    const user = await createUser(t);
    const res = await t.request(ENDPOINTS, { method: "POST", token: user.token, json: { url: `${CONSUMER}/hooks/vt`, description: "My app" } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown> & { id: string; secret: string };
    expect(res.headers.get("location")).toBe(`${ENDPOINTS}/${created.id}`);
    expect(created).toMatchObject({
      url: `${CONSUMER}/hooks/vt`, description: "My app", events: [...WEBHOOK_EVENT_TYPES], status: "enabled",
      disabled_at: null, disabled_reason: null, failing_since: null, previous_secret_expires_at: null,
    });
    const key = SECRET.exec(created.secret)?.[1];
    expect(key).toBeDefined();
    expect(Uint8Array.from(atob(key!), (c) => c.charCodeAt(0)).length).toBe(32);

    // Never again: not in the view, not in the list, not in the database in clear.
    const { secret, ...view } = created;
    const one = await t.request(`${ENDPOINTS}/${created.id}`, { token: user.token });
    const oneText = await one.text();
    expect(JSON.parse(oneText)).toEqual(view);
    const list = await (await t.request(ENDPOINTS, { token: user.token })).text();
    expect(JSON.parse(list)).toEqual({ data: [view], next_cursor: null });
    for (const text of [oneText, list]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(key!);
      expect(text).not.toMatch(/whsec_|envelope/);
    }
    const row = await (await dbOf(user.id)).prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(key!);
    expect(row!.secret_envelope).toMatch(/^v1:/);
  });

  it("subscribes to the events given, in a fixed order, duplicates collapsed; refuses unknown or no types", async () => {
    const user = await createUser(t);
    const created = await createEndpoint(t, user, {
      url: `${CONSUMER}/a`, events: ["hevy.workout.deleted", "hevy.workout.created", "hevy.workout.deleted"],
    });
    expect(created.events).toEqual(["hevy.workout.created", "hevy.workout.deleted"]);

    const bad = async (json: unknown, path: string) => {
      const problem = await expectProblem(await t.request(ENDPOINTS, { method: "POST", token: user.token, json }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    };
    await bad({ url: `${CONSUMER}/a`, events: ["hevy.workout.exploded"] }, "events.0");
    await bad({ url: `${CONSUMER}/a`, events: ["ping"] }, "events.0"); // only POST …/test sends a ping
    await bad({ url: `${CONSUMER}/a`, events: [] }, "events");
    await bad({ url: `${CONSUMER}/a`, events: "hevy.workout.created" }, "events");
    await bad({ url: `${CONSUMER}/a`, events: Array(21).fill("hevy.workout.created") }, "events");
    await bad({ url: `${CONSUMER}/a`, description: "x".repeat(257) }, "description");
    await bad({ url: `${CONSUMER}/a`, description: "line\nbreak" }, "description");
    await bad({ url: `${CONSUMER}/a`, secret: "whsec_mine" }, "");
    await bad({ events: ["hevy.workout.created"] }, "url");
    await bad({ url: 42 }, "url");
    await expectProblem(await t.request(ENDPOINTS, { method: "POST", token: user.token, body: "{", headers: { "content-type": "application/json" } }), 400, "invalid_json");
    await expectProblem(await t.request(ENDPOINTS, { method: "POST", token: user.token, body: "url=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    // Only the first endpoint exists.
    expect(((await (await t.request(ENDPOINTS, { token: user.token })).json()) as { data: unknown[] }).data).toHaveLength(1);
  });

  it("takes https URLs only; http to localhost or 127.0.0.1 only where ALLOW_INSECURE_WEBHOOK_URLS is true", async () => {
    const user = await createUser(t);
    const refused = async (request: ReturnType<typeof requestWith>, url: string) => {
      const problem = await expectProblem(await request(ENDPOINTS, { method: "POST", token: user.token, json: { url } }), 400, "validation_failed");
      expect(problem.errors?.[0]?.path, url).toBe("url");
    };
    const accepted = async (request: ReturnType<typeof requestWith>, url: string) => {
      const res = await request(ENDPOINTS, { method: "POST", token: user.token, json: { url } });
      expect(res.status, `${url}: ${await res.clone().text()}`).toBe(201);
      const { id } = (await res.json()) as { id: string };
      expect((await t.request(`${ENDPOINTS}/${id}`, { method: "DELETE", token: user.token })).status).toBe(204);
    };
    const secure = requestWith(t.env);
    expect(t.env.ALLOW_INSECURE_WEBHOOK_URLS).toBe("false"); // wrangler.toml's
    for (const url of [
      "http://localhost:3000/hooks", "http://127.0.0.1/hooks", "http://consumer.test/hooks", "ftp://consumer.test/x", "javascript:alert(1)",
      "consumer.test/hooks", "/hooks", "", "https://user:pass@consumer.test/x", "https://token@consumer.test/x", " https://consumer.test/x",
      "https://consumer.test/a b", "https://consumer.test/x\n", `https://consumer.test/${"x".repeat(2030)}`,
      "https://localhost/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://192.168.0.1/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://[::127.0.0.1]/x", "https://[64:ff9b::a00:1]/x", "https://198.18.0.1/x",
    ]) await refused(secure, url);
    await accepted(secure, `${CONSUMER}/hooks?source=vitaltrends`);
    await accepted(secure, "https://consumer.test:8443/x");

    const insecure = requestWith(insecureEnv(t));
    for (const url of ["http://localhost:3000/hooks", "http://127.0.0.1:8787/hooks", "https://localhost/x"]) await accepted(insecure, url);
    for (const url of ["http://consumer.test/hooks", "http://10.0.0.1/hooks", "http://[::1]/x", "http://localhost.consumer.test/x", "http://user:pw@localhost/x"]) {
      await refused(insecure, url);
    }
  });

  it(`allows at most 10 endpoints per user, even when created at once`, async () => {
    const user = await createUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push((await createEndpoint(t, user, { url: `${CONSUMER}/${i}` })).id);
    const burst = await Promise.all([0, 1, 2].map((i) => t.request(ENDPOINTS, { method: "POST", token: user.token, json: { url: `${CONSUMER}/burst${i}` } })));
    expect(burst.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const problem = await expectProblem(await t.request(ENDPOINTS, { method: "POST", token: user.token, json: { url: `${CONSUMER}/11` } }), 409, "webhook_endpoint_limit");
    expect(problem.detail).toMatch(/at most 10/);
    // Another user has their own allowance.
    const other = await createUser(t);
    await createEndpoint(t, other, { url: `${CONSUMER}/other` });
    expect((await t.request(`${ENDPOINTS}/${ids[0]}`, { method: "DELETE", token: user.token })).status).toBe(204);
    await createEndpoint(t, user, { url: `${CONSUMER}/again` });
  });
});

describe("GET, DELETE and the other endpoint routes", () => {
  const t = useTestContext();

  it("lists newest first in pages, and refuses a bad cursor or limit", async () => {
    const user = await createUser(t);
    const urls = ["a", "b", "c"].map((p) => `${CONSUMER}/${p}`);
    for (const url of urls) await createEndpoint(t, user, { url });
    const first = (await (await t.request(`${ENDPOINTS}?limit=2`, { token: user.token })).json()) as { data: Array<{ url: string }>; next_cursor: string };
    expect(first.data.map((e) => e.url)).toEqual([urls[2], urls[1]]);
    const second = (await (await t.request(`${ENDPOINTS}?limit=2&cursor=${first.next_cursor}`, { token: user.token })).json()) as { data: Array<{ url: string }>; next_cursor: null };
    expect(second).toMatchObject({ data: [{ url: urls[0] }], next_cursor: null });
    await expectProblem(await t.request(`${ENDPOINTS}?cursor=bm9wZQ`, { token: user.token }), 400, "validation_failed");
    await expectProblem(await t.request(`${ENDPOINTS}?limit=0`, { token: user.token }), 400, "validation_failed");
    await expectProblem(await t.request(`${ENDPOINTS}?status=failed`, { token: user.token }), 400, "validation_failed");
    await expectProblem(await t.request(ENDPOINTS), 401, "unauthorized");
  });

  it("answers 404 for another user's endpoint on every route, changes nothing of it, and 404 for what is not an id", async () => {
    const owner = await createUser(t);
    const intruder = await createUser(t);
    const endpoint = await createEndpoint(t, owner, { url: `${CONSUMER}/owner` });
    const before = await endpointView(t, owner, endpoint.id);
    const routes: Array<[string, string]> = [
      ["GET", ""], ["DELETE", ""], ["POST", "/rotate-secret"], ["POST", "/test"], ["POST", "/enable"], ["GET", "/deliveries"],
    ];
    for (const [method, suffix] of routes) {
      for (const id of [endpoint.id, crypto.randomUUID(), "not-an-id", endpoint.id.toUpperCase(), "%27%20OR%201%3D1"]) {
        const token = id === endpoint.id ? intruder.token : owner.token;
        const res = await t.request(`${ENDPOINTS}/${id}${suffix}`, { method, token });
        const text = await res.text();
        expect(res.status, `${method} …/${id}${suffix}`).toBe(404);
        expect(text).not.toContain(endpoint.url);
      }
    }
    expect(await endpointView(t, owner, endpoint.id)).toEqual(before);
    expect(t.webhookQueue.sends).toEqual([]);
    const list = (await (await t.request(ENDPOINTS, { token: intruder.token })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  it("DELETE removes the endpoint with its deliveries: a queued delivery is then never sent", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${CONSUMER}/gone` });
    const consumer = receiver(t, CONSUMER);
    const eventId = await ping(t, user, endpoint.id);
    const queued = t.webhookQueue.take();
    expect(queued).toEqual([{ type: "webhook_delivery", userId: user.id, endpointId: endpoint.id, eventId }]);
    const res = await t.request(`${ENDPOINTS}/${endpoint.id}`, { method: "DELETE", token: user.token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await t.request(`${ENDPOINTS}/${endpoint.id}`, { token: user.token }), 404, "not_found");
    await expectProblem(await t.request(`${ENDPOINTS}/${endpoint.id}`, { method: "DELETE", token: user.token }), 404, "not_found");
    const db = await dbOf(user.id);
    for (const table of ["webhook_endpoints", "webhook_deliveries", "webhook_attempts"]) {
      const column = table === "webhook_endpoints" ? "id" : "endpoint_id";
      expect((await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).bind(endpoint.id).first<{ n: number }>())!.n, table).toBe(0);
    }
    const outcome = await runWebhookBatch(t, queued);
    expect(outcome.explicitAcks).toHaveLength(1);
    expect(consumer.received).toEqual([]);
  });

  it("POST …/rotate-secret: a new secret, shown once; the previous one is honoured for 24 h", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${CONSUMER}/r` });
    const before = Date.now();
    const res = await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { id: string; secret: string; previous_secret_expires_at: string };
    expect(rotated.id).toBe(endpoint.id);
    expect(rotated.secret).toMatch(SECRET);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const expires = Date.parse(rotated.previous_secret_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1000);
    const view = await endpointView(t, user, endpoint.id);
    expect(view).not.toHaveProperty("secret");
    expect(JSON.stringify(view)).not.toContain(rotated.secret.slice(6));
    expect(view.previous_secret_expires_at).toBe(rotated.previous_secret_expires_at);
  });

  it("two rotations at once: each secret handed out stays current or previous, none is lost", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${CONSUMER}/race` });
    // This rotation has read the endpoint and is sealing its new secret when another one (through the API) runs to its end.
    const base = await depsFor(user.id);
    let other = "";
    const keyring = new Proxy(base.keyring, {
      get(target, prop) {
        if (prop === "encrypt") {
          return async (plaintext: string, label: string) => {
            if (!other) {
              const res = await t.request(`${ENDPOINTS}/${endpoint.id}/rotate-secret`, { method: "POST", token: user.token });
              other = ((await res.json()) as { secret: string }).secret;
            }
            return target.encrypt(plaintext, label);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const mine = await rotateEndpointSecret({ ...base, keyring }, user.id, endpoint.id);
    expect(other).toMatch(SECRET);
    expect(mine.secret).not.toBe(other);

    // A delivery now carries exactly these two: the one returned last (current) and the one it replaced.
    const consumer = receiver(t, CONSUMER);
    await ping(t, user, endpoint.id);
    await drainWebhooks(t);
    const [r] = consumer.received;
    expect(signaturesOf(r!)).toHaveLength(2);
    verifyWith(mine.secret, r!);
    verifyWith(other, r!);
    expect(() => verifyWith(endpoint.secret, r!)).toThrow(/No matching signature/);
  });

  it("POST …/test queues a ping for this endpoint only, and …/deliveries shows it", async () => {
    const user = await createUser(t);
    const a = await createEndpoint(t, user, { url: `${CONSUMER}/a`, events: ["hevy.workout.created"] });
    const b = await createEndpoint(t, user, { url: `${CONSUMER}/b` });
    const eventId = await ping(t, user, a.id);
    expect(eventId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(t.webhookQueue.messages).toEqual([{ type: "webhook_delivery", userId: user.id, endpointId: a.id, eventId }]);
    expect(await deliveries(t, user, a.id)).toMatchObject([{ event_id: eventId, event_type: "ping", status: "pending", attempt_count: 0, attempts: [] }]);
    expect(await deliveries(t, user, b.id)).toEqual([]);

    const consumer = receiver(t, CONSUMER);
    await drainWebhooks(t);
    expect(consumer.received.map((r) => r.url)).toEqual([`${CONSUMER}/a`]);
    expect(JSON.parse(consumer.received[0]!.body)).toEqual({ type: "ping", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/), data: {} });
    const [delivered] = await deliveries(t, user, a.id);
    expect(delivered).toMatchObject({ status: "delivered", attempt_count: 1, next_attempt_at: null, last_status_code: 200, last_error: null });
    expect(delivered!.attempts).toEqual([{ attempt: 1, at: expect.any(String), duration_ms: expect.any(Number), status_code: 200, error: null }]);
    await expectProblem(await t.request(`${ENDPOINTS}/${a.id}/deliveries?status=lost`, { token: user.token }), 400, "validation_failed");
    expect(await deliveries(t, user, a.id, "?status=pending")).toEqual([]);
    expect(await deliveries(t, user, a.id, "?status=delivered")).toHaveLength(1);
  });

  it("…/deliveries pages newest first, each delivery with its attempts, in a fixed number of queries", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${CONSUMER}/p` });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await ping(t, user, endpoint.id));
    receiver(t, CONSUMER);
    await drainWebhooks(t);
    // Creation times can tie (workerd's clock stands still between I/O): the event id breaks the tie, newest first otherwise.
    const all = await deliveries(t, user, endpoint.id, "?limit=100");
    expect(all.map((d) => d.event_id).sort()).toEqual([...ids].sort());
    const page1 = (await (await t.request(`${ENDPOINTS}/${endpoint.id}/deliveries?limit=2`, { token: user.token })).json()) as { data: DeliveryItem[]; next_cursor: string };
    const page2 = (await (await t.request(`${ENDPOINTS}/${endpoint.id}/deliveries?limit=2&cursor=${page1.next_cursor}`, { token: user.token })).json()) as { data: DeliveryItem[]; next_cursor: null };
    expect([...page1.data, ...page2.data].map((d) => d.event_id)).toEqual(all.map((d) => d.event_id));
    expect(page2.next_cursor).toBeNull();
    expect(all.every((d) => d.attempts.length === 1 && d.attempts[0]!.status_code === 200)).toBe(true);
    await expectProblem(await t.request(`${ENDPOINTS}/${endpoint.id}/deliveries?cursor=${btoa("{}")}`, { token: user.token }), 400, "validation_failed");
  });

  it("writes wait while the user's data moves to another shard (503), reads still answer", async () => {
    const user = await createUser(t);
    const endpoint = await createEndpoint(t, user, { url: `${CONSUMER}/m` });
    await env.DB.prepare("UPDATE users SET moving_to = 1 - coalesce(shard, 1) WHERE id = ?").bind(user.id).run();
    try {
      for (const [method, path] of [["POST", ""], ["DELETE", `/${endpoint.id}`], ["POST", `/${endpoint.id}/test`], ["POST", `/${endpoint.id}/rotate-secret`]] as const) {
        const res = await t.request(`${ENDPOINTS}${path}`, { method, token: user.token, json: method === "POST" && path === "" ? { url: `${CONSUMER}/x` } : undefined });
        await expectProblem(res, 503, "user_moving");
      }
      expect((await t.request(`${ENDPOINTS}/${endpoint.id}`, { token: user.token })).status).toBe(200);
    } finally {
      await env.DB.prepare("UPDATE users SET moving_to = NULL WHERE id = ?").bind(user.id).run();
    }
  });
});

type DeliveryItem = { event_id: string };
