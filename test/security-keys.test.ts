import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { logIn } from "./hardening-fixture";
import { callWorker, createUser, dbOf, type TestContext, useTestContext } from "./helpers";
import { drainQueue, fastBackfill, recordingRetryPolicy } from "./queue-helpers";

// Rotating KEY_ENCRYPTION_KEY: the new key goes in KEY_ENCRYPTION_KEY, the old
// one in KEY_ENCRYPTION_KEYS_PREVIOUS. Envelopes made under the old key id must
// keep working and be re-encrypted under the new one, so the old key can be
// retired. Envelopes are opened here with WebCrypto directly, not with the
// app's keyring: `v1:<kid>:<iv>:<ciphertext>`, kid = first 16 hex of SHA-256(key).

const b64ToBytes = (b64: string) => Uint8Array.from(atob(b64.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(b64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const kidOf = async (keyB64: string) => hex(await crypto.subtle.digest("SHA-256", b64ToBytes(keyB64))).slice(0, 16);
const newKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

async function open(envelope: string, keyB64: string, aad: string): Promise<string> {
  const [version, , iv, ct] = envelope.split(":");
  expect(version).toBe("v1");
  const key = await crypto.subtle.importKey("raw", b64ToBytes(keyB64), "AES-GCM", false, ["decrypt"]);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: b64ToBytes(iv!), additionalData: new TextEncoder().encode(aad) }, key, b64ToBytes(ct!));
  return new TextDecoder().decode(plain);
}

interface Envelopes {
  api_key_envelope: string;
  webhook_secret_envelope: string;
  webhook_auth_envelope: string;
}
const envelopes = async (userId: string) =>
  (await dbOf(userId)).prepare("SELECT api_key_envelope, webhook_secret_envelope, webhook_auth_envelope FROM hevy_connections WHERE user_id = ?").bind(userId).first<Envelopes>().then((r) => r!);

/** The same test context (fake Hevy, recording queue) with other secrets in the environment. */
const withEnv = (t: TestContext, vars: Partial<Env>): TestContext => {
  const rotated = { ...t.env, KEY_ENCRYPTION_KEYS_PREVIOUS: undefined, ...vars } as Env;
  return { ...t, env: rotated, request: (path, init) => callWorker(rotated, path, init) };
};

async function connected(t: TestContext) {
  const user = await createUser(t);
  const account = t.hevy.createAccount();
  t.hevy.generateHistory(account.apiKey, 3, { seed: 5 });
  expect((await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } })).status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  const sub = t.hevy.webhookSubscription(account.apiKey)!;
  return { user, apiKey: account.apiKey, secret: sub.url.split("/").pop()!, authToken: sub.authToken };
}

const webhook = (t: TestContext, secret: string, authToken: string, workoutId: string) =>
  t.request(`/webhooks/hevy/${secret}`, { method: "POST", headers: { authorization: authToken }, json: { id: crypto.randomUUID(), payload: { workoutId } } });

async function sync(t: TestContext, token: string) {
  expect((await t.request("/api/v1/connections/hevy/sync", { method: "POST", token })).status).toBe(202);
  return drainQueue(t, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
}

describe("KEY_ENCRYPTION_KEY rotation", () => {
  const t = useTestContext();
  const OLD = env.KEY_ENCRYPTION_KEY;

  it("keeps decrypting envelopes of the old key id and re-encrypts the Hevy key under the new one on the next sync", async () => {
    const c = await connected(t);
    const session = await logIn(t, c.user.token);
    const before = await envelopes(c.user.id);
    const oldKid = await kidOf(OLD);
    for (const e of Object.values(before)) expect(e.startsWith(`v1:${oldKid}:`)).toBe(true);

    const NEW = newKey();
    // Several previous keys, comma-separated with spaces, the old one among them.
    const rotated = withEnv(t, { KEY_ENCRYPTION_KEY: NEW, KEY_ENCRYPTION_KEYS_PREVIOUS: `${newKey()}, ${OLD}` });
    const view = await rotated.request("/api/v1/connections/hevy", { token: c.user.token });
    expect(view.status).toBe(200);
    expect(((await view.json()) as { webhook: { url: string } }).webhook.url).toBe(`${env.PUBLIC_BASE_URL}/webhooks/hevy/${c.secret}`);
    expect((await rotated.request("/connections/hevy", { headers: { cookie: session.cookie } })).status).toBe(200);

    const added = t.hevy.putWorkout(c.apiKey, { start_time: "2026-11-20T17:02:00Z", end_time: "2026-11-20T18:00:00Z", title: "After rotation" });
    const hevyBefore = t.hevy.requests.length;
    await sync(rotated, c.user.token);
    const calls = t.hevy.requests.slice(hevyBefore);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((r) => r.apiKey === c.apiKey && r.status === 200)).toBe(true);
    const stored = await (await dbOf(c.user.id)).prepare("SELECT title FROM hevy_workouts WHERE user_id = ? AND id = ?").bind(c.user.id, added.id).first<{ title: string }>();
    expect(stored?.title).toBe("After rotation");

    const after = await envelopes(c.user.id);
    expect(after.api_key_envelope.startsWith(`v1:${await kidOf(NEW)}:`)).toBe(true);
    expect(await open(after.api_key_envelope, NEW, `hevy_api_key:${c.user.id}`)).toBe(c.apiKey);
    await expect(open(after.api_key_envelope, OLD, `hevy_api_key:${c.user.id}`)).rejects.toThrow();
    // The webhook still answers under the rotated environment (its envelope opens with the previous key).
    expect((await webhook(rotated, c.secret, c.authToken, added.id)).status).toBe(200);
  });

  it("fails closed without the old key: the sync stops on its envelope and never sends Hevy a wrong key", async () => {
    const c = await connected(t);
    const lost = withEnv(t, { KEY_ENCRYPTION_KEY: newKey() });
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warnings.push(String(line)));
    const hevyBefore = t.hevy.requests.length;
    await t.queue.send({ type: "delta", userId: c.user.id, reason: "manual" });
    await drainQueue(lost, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
    expect(t.hevy.requests.slice(hevyBefore)).toEqual([]);
    // The operator sees why in the logs, without the key.
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((w) => w.includes("KeyringError") && !w.includes(c.apiKey))).toBe(true);
    vi.restoreAllMocks();
    // The envelope is left as it was, so restoring the old key restores the connection.
    expect((await envelopes(c.user.id)).api_key_envelope.startsWith(`v1:${await kidOf(OLD)}:`)).toBe(true);
  });

  // Without the webhook envelopes re-encrypted too, retiring the old key would break the
  // connection view (500) and every webhook delivery (500).
  it("lets the old key be retired after a sync under the new one (webhook envelopes re-encrypted too)", async () => {
    const c = await connected(t);
    const NEW = newKey();
    await sync(withEnv(t, { KEY_ENCRYPTION_KEY: NEW, KEY_ENCRYPTION_KEYS_PREVIOUS: OLD }), c.user.token);
    const retired = withEnv(t, { KEY_ENCRYPTION_KEY: NEW });
    const newKid = await kidOf(NEW);
    for (const e of Object.values(await envelopes(c.user.id))) expect(e.startsWith(`v1:${newKid}:`)).toBe(true);
    expect((await retired.request("/api/v1/connections/hevy", { token: c.user.token })).status).toBe(200);
    const added = t.hevy.putWorkout(c.apiKey, { start_time: "2026-11-21T17:02:00Z", end_time: "2026-11-21T18:00:00Z" });
    expect((await webhook(retired, c.secret, c.authToken, added.id)).status).toBe(200);
  });
});
