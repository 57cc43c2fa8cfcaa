import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { type RealisticUser as Fixture, realisticUser, userState } from "./hardening-fixture";
import { createUser, dbOf, type TestContext, type TestUser, useTestContext } from "./helpers";
import { drainQueue } from "./queue-helpers";

// Every /api/v1 route against every kind of credential that must not work:
// none, malformed, revoked, and another user's. The table below is checked
// against the routes the app registers, so a new route cannot skip this suite.

interface ApiCall {
  path: string;
  json?: unknown;
}

/** The hardening fixture's user, plus an outgoing webhook endpoint of theirs (SPEC §15). */
type RealisticUser = Fixture & { endpoint: { id: string; url: string } };

async function ownerWithEndpoint(t: TestContext, opts: Parameters<typeof realisticUser>[1]): Promise<RealisticUser> {
  const o = await realisticUser(t, opts);
  const url = `https://consumer.test/owner-${crypto.randomUUID()}`;
  const res = await t.request("/api/v1/webhook-endpoints", { method: "POST", token: o.user.token, json: { url } });
  expect(res.status).toBe(201);
  return { ...o, endpoint: { id: ((await res.json()) as { id: string }).id, url } };
}

/** One call per registered /api/v1 route, aimed at the owner's resources where the route takes an id. */
const API_ROUTES: Record<string, (o: RealisticUser) => ApiCall> = {
  "PUT /api/v1/connections/hevy": (o) => ({ path: "/api/v1/connections/hevy", json: { api_key: o.apiKey } }),
  "GET /api/v1/connections/hevy": () => ({ path: "/api/v1/connections/hevy" }),
  "DELETE /api/v1/connections/hevy": () => ({ path: "/api/v1/connections/hevy?purge=true" }),
  "POST /api/v1/connections/hevy/webhook-secret": () => ({ path: "/api/v1/connections/hevy/webhook-secret" }),
  "POST /api/v1/connections/hevy/sync": () => ({ path: "/api/v1/connections/hevy/sync" }),
  "POST /api/v1/exports/hevy-csv": () => ({ path: "/api/v1/exports/hevy-csv", json: {} }),
  "GET /api/v1/exports/:id": (o) => ({ path: `/api/v1/exports/${o.exportId}` }),
  "GET /api/v1/exports/:id/download": (o) => ({ path: `/api/v1/exports/${o.exportId}/download` }),
  "GET /api/v1/hevy/summary": () => ({ path: "/api/v1/hevy/summary?weeks=104" }),
  "GET /api/v1/hevy/trends": () => ({ path: "/api/v1/hevy/trends?weeks=104" }),
  "GET /api/v1/hevy/prs": () => ({ path: "/api/v1/hevy/prs" }),
  "GET /api/v1/hevy/muscle-groups": () => ({ path: "/api/v1/hevy/muscle-groups" }),
  "GET /api/v1/hevy/sessions/latest/recovery": () => ({ path: "/api/v1/hevy/sessions/latest/recovery" }),
  "GET /api/v1/hevy/sessions/recovery": () => ({ path: "/api/v1/hevy/sessions/recovery?weeks=104" }),
  "GET /api/v1/workouts/hevy": () => ({ path: "/api/v1/workouts/hevy?limit=100" }),
  "GET /api/v1/workouts/hevy/:id": (o) => ({ path: `/api/v1/workouts/hevy/${o.workoutIds[0]}` }),
  "GET /api/v1/workouts/unified": () => ({ path: "/api/v1/workouts/unified?limit=100" }),
  "PUT /api/v1/sources/:source/workouts": (o) => ({
    path: "/api/v1/sources/apple_health/workouts",
    json: { items: [{ external_id: o.externalIds.appleStrength, activity_type: "running", start_time: "2026-01-01T10:00:00Z", end_time: "2026-01-01T11:00:00Z" }] },
  }),
  "DELETE /api/v1/sources/:source/workouts/:external_id": (o) => ({ path: `/api/v1/sources/apple_health/workouts/${o.externalIds.appleStrength}` }),
  "PUT /api/v1/recovery/:source": (o) => ({ path: "/api/v1/recovery/whoop", json: { items: [{ date: o.recoveryDates[0], score: 1 }] } }),
  "POST /api/v1/webhook-endpoints": () => ({ path: "/api/v1/webhook-endpoints", json: { url: "https://consumer.test/another" } }),
  "GET /api/v1/webhook-endpoints": () => ({ path: "/api/v1/webhook-endpoints" }),
  "GET /api/v1/webhook-endpoints/:id": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}` }),
  "DELETE /api/v1/webhook-endpoints/:id": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}` }),
  "POST /api/v1/webhook-endpoints/:id/rotate-secret": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}/rotate-secret` }),
  "POST /api/v1/webhook-endpoints/:id/enable": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}/enable` }),
  "POST /api/v1/webhook-endpoints/:id/test": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}/test` }),
  "GET /api/v1/webhook-endpoints/:id/deliveries": (o) => ({ path: `/api/v1/webhook-endpoints/${o.endpoint.id}/deliveries` }),
};

const call = (t: TestContext, route: string, o: RealisticUser, authorization?: string) => {
  const method = route.split(" ")[0]!;
  const { path, json } = API_ROUTES[route]!(o);
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  return t.request(path, { method, headers, json });
};

const sha256Hex = async (s: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Every value of the owner's that another user must never see. */
function ownerMarkers(o: RealisticUser): string[] {
  return [o.user.id, o.user.email, o.hevyName, o.exportId, o.webhook.secret, o.endpoint.id, o.endpoint.url, ...o.workoutIds, ...Object.values(o.externalIds)];
}

describe("API auth on every /api/v1 route", () => {
  const t = useTestContext();

  it("covers every /api/v1 route the app registers", () => {
    // The OpenAPI document is the one public route (SPEC §14; test/openapi.test.ts).
    const registered = new Set(
      createApp().routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/") && r.path !== "/api/v1/openapi.json").map((r) => `${r.method} ${r.path}`),
    );
    expect([...registered].sort()).toEqual(Object.keys(API_ROUTES).sort());
  });

  it("refuses a missing, malformed or revoked token with 401 on every route, before doing anything", async () => {
    const owner = await ownerWithEndpoint(t, { workouts: 3 });
    // A second token of the owner's, revoked; and a whole other user whose only token is revoked.
    const revoked = `vt_${crypto.randomUUID().replace(/-/g, "")}`;
    await env.DB.prepare("INSERT INTO api_tokens (id, user_id, token_digest, created_at, revoked_at) VALUES (?, ?, ?, 1, 2)")
      .bind(crypto.randomUUID(), owner.user.id, await sha256Hex(revoked)).run();
    const gone = await createUser(t);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?").bind(gone.id).run();
    const storedDigest = await sha256Hex(owner.user.token);
    const credentials: Array<[string, string | undefined]> = [
      ["no Authorization", undefined],
      ["Basic credentials", `Basic ${btoa(`${owner.user.email}:${owner.user.token}`)}`],
      ["Bearer without a token", "Bearer"],
      ["another scheme", `Token ${owner.user.token}`],
      ["token plus a character", `Bearer ${owner.user.token}x`],
      ["token minus a character", `Bearer ${owner.user.token.slice(0, -1)}`],
      ["token in capitals", `Bearer ${owner.user.token.toUpperCase()}`],
      ["two tokens", `Bearer ${owner.user.token}, Bearer ${owner.user.token}`],
      ["the stored digest", `Bearer ${storedDigest}`],
      ["8,000 characters", `Bearer vt_${"x".repeat(8000)}`],
      ["the owner's revoked token", `Bearer ${revoked}`],
      ["a revoked user's token", `Bearer ${gone.token}`],
      ["the admin token", `Bearer ${env.ADMIN_TOKEN}`],
    ];
    const before = await userState(owner.user.id);
    const hevyBefore = t.hevy.requests.length;
    const failures: string[] = [];
    for (const route of Object.keys(API_ROUTES)) {
      for (const [label, authorization] of credentials) {
        const res = await call(t, route, owner, authorization);
        const body = (await res.json()) as { code?: string };
        const challenge = res.headers.get("www-authenticate") ?? "";
        if (res.status !== 401 || body.code !== "unauthorized" || !challenge.startsWith("Bearer")) {
          failures.push(`${route} with ${label}: ${res.status} ${JSON.stringify(body)} ${challenge}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await userState(owner.user.id)).toEqual(before);
    expect(t.queue.messages).toEqual([]);
    expect(t.hevy.requests.length).toBe(hevyBefore);
  });

  it("lets another user's token reach only that user's data: the owner's resources are 404, never 403, and nothing of the owner's changes", async () => {
    const owner = await ownerWithEndpoint(t, { workouts: 4 });
    const intruder: TestUser = await createUser(t);
    const own = await t.request("/api/v1/sources/whoop/workouts", {
      method: "PUT", token: intruder.token,
      json: { items: [{ external_id: "intruder-ride", activity_type: "cycling", start_time: "2026-02-01T08:00:00Z", end_time: "2026-02-01T09:00:00Z" }] },
    });
    expect(own.status).toBe(200);
    const before = await userState(owner.user.id);
    const markers = ownerMarkers(owner);
    const bearer = `Bearer ${intruder.token}`;
    const hevyBefore = t.hevy.requests.length;

    // The intruder has no Hevy connection and no exports of their own: these name the owner's or nothing.
    const expected: Record<string, number> = {
      "GET /api/v1/connections/hevy": 404,
      "DELETE /api/v1/connections/hevy": 404,
      "POST /api/v1/connections/hevy/webhook-secret": 404,
      "POST /api/v1/connections/hevy/sync": 404,
      "GET /api/v1/exports/:id": 404,
      "GET /api/v1/exports/:id/download": 404,
      "GET /api/v1/workouts/hevy/:id": 404,
      "DELETE /api/v1/sources/:source/workouts/:external_id": 404,
      // The intruder has no Hevy workout, so no latest session of their own.
      "GET /api/v1/hevy/sessions/latest/recovery": 404,
      // Lists and metrics answer with the intruder's own (empty) data.
      "GET /api/v1/hevy/summary": 200,
      "GET /api/v1/hevy/trends": 200,
      "GET /api/v1/hevy/prs": 200,
      "GET /api/v1/hevy/muscle-groups": 200,
      "GET /api/v1/workouts/hevy": 200,
      "GET /api/v1/workouts/unified": 200,
      // Writes with the owner's external id or date create the intruder's own rows.
      "PUT /api/v1/sources/:source/workouts": 200,
      "PUT /api/v1/recovery/:source": 200,
      "POST /api/v1/exports/hevy-csv": 202,
      // Outgoing webhooks: the owner's endpoint is not there; the list and a new endpoint are the intruder's own.
      "GET /api/v1/webhook-endpoints/:id": 404,
      "DELETE /api/v1/webhook-endpoints/:id": 404,
      "POST /api/v1/webhook-endpoints/:id/rotate-secret": 404,
      "POST /api/v1/webhook-endpoints/:id/enable": 404,
      "POST /api/v1/webhook-endpoints/:id/test": 404,
      "GET /api/v1/webhook-endpoints/:id/deliveries": 404,
      "GET /api/v1/webhook-endpoints": 200,
      "POST /api/v1/webhook-endpoints": 201,
    };
    const failures: string[] = [];
    const texts: string[] = [];
    for (const [route, status] of Object.entries(expected)) {
      const res = await call(t, route, owner, bearer);
      const text = await res.text();
      texts.push(text);
      if (res.status !== status) failures.push(`${route}: expected ${status}, got ${res.status} ${text.slice(0, 200)}`);
      for (const m of markers) if (text.includes(m)) failures.push(`${route}: shows the owner's ${m}`);
    }
    expect(failures).toEqual([]);
    expect(texts.join("\n")).not.toMatch(/"status":\s*403/);
    // What the intruder sees is their own: their ride in the feed, zero Hevy workouts.
    const feed = (await (await call(t, "GET /api/v1/workouts/unified", owner, bearer)).json()) as { data: Array<{ id: string }> };
    expect(feed.data.map((r) => r.id).sort()).toEqual(["apple_health:" + owner.externalIds.appleStrength, "whoop:intruder-ride"].sort());
    const summary = (await (await call(t, "GET /api/v1/hevy/summary", owner, bearer)).json()) as { totals: { workouts: number } };
    expect(summary.totals.workouts).toBe(0);
    // The intruder's export holds their (absent) Hevy sets only: the header line.
    const exportIds = await (await dbOf(intruder.id)).prepare("SELECT id FROM exports WHERE user_id = ?").bind(intruder.id).all<{ id: string }>();
    expect(exportIds.results).toHaveLength(1);
    await drainQueue(t);
    const csv = await (await t.request(`/api/v1/exports/${exportIds.results[0]!.id}/download`, { token: intruder.token })).text();
    expect(csv.trimEnd().split("\r\n")).toHaveLength(1);

    expect(await userState(owner.user.id)).toEqual(before);
    expect(t.hevy.requests.length).toBe(hevyBefore);
  });

  it("gives the owner, with the same requests, their own resources (so the 404s above are about ownership)", async () => {
    const owner = await ownerWithEndpoint(t, { workouts: 4 });
    const bearer = `Bearer ${owner.user.token}`;
    const reads: Array<[string, (text: string) => boolean]> = [
      ["GET /api/v1/connections/hevy", (s) => s.includes(owner.hevyName)],
      ["GET /api/v1/exports/:id", (s) => s.includes(owner.exportId)],
      ["GET /api/v1/exports/:id/download", (s) => owner.workoutIds.every((id) => s.includes(id))],
      ["GET /api/v1/workouts/hevy/:id", (s) => s.includes(owner.workoutIds[0]!)],
      ["GET /api/v1/workouts/hevy", (s) => owner.workoutIds.every((id) => s.includes(id))],
      ["GET /api/v1/workouts/unified", (s) => s.includes(owner.externalIds.appleRun)],
      ["GET /api/v1/hevy/sessions/latest/recovery", (s) => s.includes(owner.workoutIds[0]!)],
      ["GET /api/v1/webhook-endpoints/:id", (s) => s.includes(owner.endpoint.url)],
      ["GET /api/v1/webhook-endpoints", (s) => s.includes(owner.endpoint.id)],
      ["GET /api/v1/webhook-endpoints/:id/deliveries", (s) => s.includes('"data":[]')],
    ];
    for (const [route, shows] of reads) {
      const res = await call(t, route, owner, bearer);
      const text = await res.text();
      expect(res.status, route).toBe(200);
      expect(shows(text), `${route}: ${text.slice(0, 200)}`).toBe(true);
    }
    expect((await call(t, "DELETE /api/v1/sources/:source/workouts/:external_id", owner, bearer)).status).toBe(204);
    expect((await call(t, "POST /api/v1/connections/hevy/sync", owner, bearer)).status).toBe(202);
    expect((await call(t, "DELETE /api/v1/connections/hevy", owner, bearer)).status).toBe(204);
    expect((await call(t, "POST /api/v1/webhook-endpoints/:id/rotate-secret", owner, bearer)).status).toBe(200);
    expect((await call(t, "POST /api/v1/webhook-endpoints/:id/test", owner, bearer)).status).toBe(202);
    expect((await call(t, "POST /api/v1/webhook-endpoints/:id/enable", owner, bearer)).status).toBe(200);
    expect((await call(t, "DELETE /api/v1/webhook-endpoints/:id", owner, bearer)).status).toBe(204);
  });
});
