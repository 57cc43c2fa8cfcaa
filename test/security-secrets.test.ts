import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { logIn } from "./hardening-fixture";
import { ADMIN_TOKEN, callWorker, createUser, dataDbs, useTestContext } from "./helpers";
import { DEAD_LETTER_QUEUE, deliver, drainQueue, fastBackfill, QUEUE, recordingRetryPolicy } from "./queue-helpers";
import { drainWebhooks, ENDPOINTS, receiver } from "./webhook-helpers";

// A user's whole life — connect, backfill, webhook, Hevy failing until the
// dead-letter queue, a key revoked mid-sync, a new key, an export, a secret
// rotation, errors of every kind, disconnect — with every console line and
// every answer captured. No API token, Hevy key, webhook auth token or
// encryption key may appear in any of them, in the export file, or in clear in
// D1. The webhook secret is shown only to its owner, in the connection view; an outgoing
// webhook endpoint's signing secret only in the answers that create and rotate it.

interface Seen {
  label: string;
  text: string;
}

describe("secrets never leave the Worker", () => {
  const t = useTestContext();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("keeps tokens, Hevy keys, webhook auth tokens and the encryption key out of every answer, log line, export and stored column", async () => {
    const logs: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    }
    const answers: Seen[] = [];
    /** Answers that may show the webhook secret: the owner's connection view and page. */
    const ownerViews: Seen[] = [];
    const record = async (label: string, res: Response, ownerView = false) => {
      const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
      const seen = { label, text: `${res.status}\n${headers}\n\n${await res.clone().text()}` };
      (ownerView ? ownerViews : answers).push(seen);
      return res;
    };
    const api = (label: string, path: string, init: Parameters<typeof t.request>[1] = {}, ownerView = false) =>
      t.request(path, { token: user.token, ...init }).then((res) => record(label, res, ownerView));

    const user = await createUser(t);
    // An outgoing webhook endpoint first (SPEC §15), so every change below is delivered, signed.
    const consumer = receiver(t, "https://consumer.test");
    const endpoint = await api("endpoint", ENDPOINTS, { method: "POST", json: { url: "https://consumer.test/hooks" } }, true);
    expect(endpoint.status).toBe(201);
    const signing: string[] = [((await endpoint.clone().json()) as { secret: string }).secret];
    const endpointId = ((await endpoint.clone().json()) as { id: string }).id;
    const account = t.hevy.createAccount();
    t.hevy.generateHistory(account.apiKey, 6, { seed: 3 });
    const authTokens: string[] = [];
    const secrets: string[] = [];
    const noteWebhook = () => {
      const sub = t.hevy.webhookSubscription(account.apiKey);
      if (sub) {
        authTokens.push(sub.authToken);
        secrets.push(sub.url.split("/").pop()!);
      }
    };

    expect((await api("connect", "/api/v1/connections/hevy", { method: "PUT", json: { api_key: account.apiKey } }, true)).status).toBe(202);
    noteWebhook();
    await drainQueue(t, { backfill: fastBackfill() });
    await api("view", "/api/v1/connections/hevy", {}, true);
    const session = await logIn(t, user.token);
    await record("page", await t.request("/connections/hevy", { headers: { cookie: session.cookie } }), true);
    await record("page status", await t.request("/connections/hevy/status", { headers: { cookie: session.cookie } }), true);

    // A webhook delivery, and one with a wrong Authorization.
    const fresh = t.hevy.putWorkout(account.apiKey, {
      start_time: "2026-11-20T17:02:00Z", end_time: "2026-11-20T18:00:00Z", title: "Webhook",
      exercises: [{ index: 0, title: "Squat", notes: null, exercise_template_id: "D04AC939", supersets_id: null,
        sets: [{ index: 0, type: "normal", weight_kg: 100, reps: 5, distance_meters: null, duration_seconds: null, rpe: null, custom_metric: null }] }],
    });
    const delivery = t.hevy.webhookDelivery(account.apiKey, fresh.id)!;
    await record("webhook", await callWorker(t.env, new URL(delivery.url).pathname, { method: "POST", headers: delivery.headers, body: await delivery.text() }));
    await record("webhook wrong auth", await callWorker(t.env, `/webhooks/hevy/${secrets[0]}`, { method: "POST", headers: { authorization: "Bearer guess" }, body: "{}" }));
    await drainQueue(t);

    // Hevy fails until the dead-letter queue takes the delta; then the key is revoked mid-delta.
    t.hevy.injectFault({ status: 500, times: 1000, match: "/v1/workouts/events" });
    await api("sync", "/api/v1/connections/hevy/sync", { method: "POST" }, true);
    const failing = await drainQueue(t, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
    expect(failing.deadLettered).toHaveLength(1);
    t.hevy.clearFaults();
    await api("view after dead letter", "/api/v1/connections/hevy", {}, true);
    t.hevy.revokeKey(account.apiKey);
    await api("sync", "/api/v1/connections/hevy/sync", { method: "POST" }, true);
    await drainQueue(t, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
    const revokedView = await api("view after revocation", "/api/v1/connections/hevy", {}, true);
    expect(((await revokedView.json()) as { status: string }).status).toBe("needs_reconnect");

    // A new key for the same account; a poison message that carries it is dropped without echoing it.
    const newKey = t.hevy.issueKey(account.apiKey);
    expect((await api("reconnect", "/api/v1/connections/hevy", { method: "PUT", json: { api_key: newKey } }, true)).status).toBe(202);
    noteWebhook();
    await drainQueue(t);
    const poison = { type: "delta", userId: 42, apiKey: newKey, token: user.token };
    await deliver(t, QUEUE, poison, 1);
    await deliver(t, DEAD_LETTER_QUEUE, poison, 1);
    await api("rotate", "/api/v1/connections/hevy/webhook-secret", { method: "POST" }, true);
    noteWebhook();
    const rotated = await api("endpoint rotate", `${ENDPOINTS}/${endpointId}/rotate-secret`, { method: "POST" }, true);
    signing.push(((await rotated.clone().json()) as { secret: string }).secret);
    await api("endpoint view", `${ENDPOINTS}/${endpointId}`);
    await api("endpoint list", ENDPOINTS);
    await api("endpoint test", `${ENDPOINTS}/${endpointId}/test`, { method: "POST" });
    await drainWebhooks(t);
    await api("endpoint deliveries", `${ENDPOINTS}/${endpointId}/deliveries`);

    // The export, start to file.
    const created = await api("export", "/api/v1/exports/hevy-csv", { method: "POST", json: {} });
    const { id: exportId } = (await created.json()) as { id: string };
    await drainQueue(t);
    await api("export view", `/api/v1/exports/${exportId}`);
    const download = await api("download", `/api/v1/exports/${exportId}/download`);
    expect(download.status).toBe(200);
    const csv = await download.text();
    expect(csv).toContain(fresh.id);

    // Errors: bad input, wrong credentials, and an unexpected failure (500) while the token is in the request.
    await api("bad json", "/api/v1/sources/whoop/workouts", { method: "PUT", headers: { "content-type": "application/json" }, body: "{" });
    await api("bad key", "/api/v1/connections/hevy", { method: "PUT", json: { api_key: `${newKey}x` } });
    await record("wrong token", await t.request("/api/v1/workouts/hevy", { token: `${user.token}x` }));
    await record("wrong admin", await t.request("/admin/v1/users", { method: "POST", token: `${ADMIN_TOKEN}x`, json: { email: "x@example.com" } }));
    const broken = createApp({ deps: { now: () => { throw new Error("the clock broke"); } } });
    const ctx = createExecutionContext();
    const crash = await broken.fetch(new Request("https://vitaltrends.test/api/v1/recovery/whoop", {
      method: "PUT", headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ items: [{ date: "2026-11-21", score: 50 }] }),
    }), t.env, ctx);
    await waitOnExecutionContext(ctx);
    await record("500", crash);
    expect(crash.status).toBe(500);
    const problem = (await crash.json()) as Record<string, unknown>;
    expect(problem.code).toBe("internal_error");
    expect(JSON.stringify(problem)).not.toMatch(/clock|at \w+ \(|\.ts:\d+/);

    // Everything stored, read raw, in the directory and every shard: no secret in clear in any column of any table.
    const stored: Array<{ table: string; rows: string }> = [];
    for (const [i, db] of dataDbs().entries()) {
      const tables = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
      for (const { name } of tables.results) stored.push({ table: `${i}.${name}`, rows: JSON.stringify((await db.prepare(`SELECT * FROM "${name}"`).all()).results) });
    }
    await api("disconnect", "/api/v1/connections/hevy?purge=true", { method: "DELETE" });

    const never = new Map<string, string>([
      ["API token", user.token], ["API token without its prefix", user.token.slice(3)], ["admin token", ADMIN_TOKEN],
      ["Hevy key", account.apiKey], ["Hevy key without dashes", account.apiKey.replace(/-/g, "")], ["new Hevy key", newKey],
      ["KEY_ENCRYPTION_KEY", env.KEY_ENCRYPTION_KEY],
      ...authTokens.map((a, i): [string, string] => [`webhook auth token ${i}`, a.replace(/^Bearer /, "")]),
    ]);
    expect(authTokens).toHaveLength(3);
    expect(secrets).toHaveLength(3);
    const leaks: string[] = [];
    const scan = (where: string, text: string, names: Map<string, string>) => {
      for (const [name, value] of names) if (text.includes(value)) leaks.push(`${name} in ${where}`);
    };
    const withSecrets = new Map([
      ...never,
      ...secrets.map((s, i): [string, string] => [`webhook secret ${i}`, s]),
      ...signing.map((s, i): [string, string] => [`endpoint signing secret ${i}`, s]),
      ...signing.map((s, i): [string, string] => [`endpoint signing key ${i}`, s.slice("whsec_".length)]),
    ]);
    for (const a of answers) scan(`answer "${a.label}"`, a.text, withSecrets);
    for (const a of ownerViews) scan(`owner view "${a.label}"`, a.text, never);
    logs.forEach((line, i) => scan(`log line ${i}: ${line.slice(0, 80)}`, line, withSecrets));
    scan("the export file", csv, withSecrets);
    stored.forEach(({ table, rows }) => scan(`table ${table}`, rows, withSecrets));
    // What the consumer received: signatures, never a secret.
    consumer.received.forEach((r, i) => scan(`delivery ${i}`, JSON.stringify(r), withSecrets));
    expect(leaks).toEqual([]);

    // The capture saw the noisy paths, so silence above is not an accident.
    const allLogs = logs.join("\n");
    expect(allLogs).toContain("message will be retried");
    expect(allLogs).toContain("poison message");
    expect(allLogs).toContain("the clock broke");
    expect(ownerViews.some((v) => v.text.includes(secrets[2]!))).toBe(true);
    expect(ownerViews.some((v) => v.text.includes(signing[1]!))).toBe(true);
    // Deliveries happened (the backfill's completion, the webhook's workout, the ping…), so their silence is not an accident.
    expect(consumer.received.length).toBeGreaterThan(2);
    expect(stored.some(({ table }) => table.endsWith(".webhook_endpoints"))).toBe(true);
  });
});
