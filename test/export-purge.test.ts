import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { deadLetterRows } from "./fault-helpers";
import { callWorker, createUser, dbOf, useTestContext, type TestContext, type TestUser } from "./helpers";
import { deliver, drainQueue, fastBackfill, MAX_DELIVERIES, QUEUE } from "./queue-helpers";
import { uploadOpen } from "./r2-helpers";

// DELETE /connections/hevy?purge=true while R2 fails (SPEC §11): the request still
// succeeds, the export rows go at once, and a queued purge_exports job removes the
// files once R2 answers again, sparing any export made since.

const CONN = "/api/v1/connections/hevy";
const EXPORTS = "/api/v1/exports";

/** The real bucket, except that list and delete throw as R2 does when it is down. */
function failingBucket(real: R2Bucket = env.EXPORTS): R2Bucket {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "list" || prop === "delete") {
        return async () => {
          throw new Error(`${String(prop)}: We encountered an internal error. Please try again. (10001)`);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const objectsOf = async (userId: string) => (await env.EXPORTS.list({ prefix: `exports/${userId}/` })).objects.map((o) => o.key).sort();
const exportRowCount = async (userId: string) =>
  (await (await dbOf(userId)).prepare("SELECT count(*) AS n FROM exports WHERE user_id = ?").bind(userId).first<{ n: number }>())!.n;


async function requestExport(t: TestContext, user: TestUser): Promise<string> {
  const res = await t.request(`${EXPORTS}/hevy-csv`, { method: "POST", token: user.token, json: {} });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function exportNow(t: TestContext, user: TestUser): Promise<string> {
  const id = await requestExport(t, user);
  await drainQueue(t);
  return id;
}

const download = (t: TestContext, user: TestUser, id: string) => t.request(`${EXPORTS}/${id}/download`, { token: user.token });

/** A connected user with two finished exports and one still being written (an open multipart upload). */
async function userWithExports(t: TestContext) {
  const user = await createUser(t);
  const { apiKey } = t.hevy.createAccount();
  expect((await t.request(CONN, { method: "PUT", token: user.token, json: { api_key: apiKey } })).status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  const done = [await exportNow(t, user), await exportNow(t, user)];
  for (const id of done) expect((await download(t, user, id)).status).toBe(200);

  // Its job is mid-upload: claimed, parts not yet completed.
  const running = await requestExport(t, user);
  t.queue.take();
  const key = `exports/${user.id}/${running}.csv`;
  const upload = await env.EXPORTS.createMultipartUpload(key);
  await (await dbOf(user.id)).prepare("UPDATE exports SET status = 'running', upload_id = ? WHERE id = ?").bind(upload.uploadId, running).run();
  return { user, done, upload: { key, uploadId: upload.uploadId } };
}

async function purgeWhileR2Fails(t: TestContext, user: TestUser) {
  const res = await callWorker({ ...t.env, EXPORTS: failingBucket() } as Env, `${CONN}?purge=true`, { method: "DELETE", token: user.token });
  expect(res.status).toBe(204);
  return t.queue.take();
}

describe("purging exports while R2 fails", () => {
  const t = useTestContext();
  afterEach(() => vi.restoreAllMocks());

  it("still answers 204 and deletes the rows; the queued retry removes the files once R2 answers, sparing a newer export", async () => {
    const { user, done, upload } = await userWithExports(t);
    expect(await objectsOf(user.id)).toHaveLength(2);

    const queued = await purgeWhileR2Fails(t, user);
    expect(queued).toEqual([{ type: "purge_exports", userId: user.id, uploads: [upload] }]);
    expect(await exportRowCount(user.id)).toBe(0);
    for (const id of done) expect((await download(t, user, id)).status).toBe(404);
    expect(await objectsOf(user.id)).toHaveLength(2); // R2 was down: the files are still there, for now

    // The user exports again before the retry runs: that file must survive it.
    const fresh = await exportNow(t, user);
    expect(await objectsOf(user.id)).toHaveLength(3);

    // R2 still down: the job fails and the queue redelivers it, later each time.
    const stillDown = { deps: { exportsBucket: failingBucket() } };
    const first = await deliver(t, QUEUE, queued[0], 1, stillDown);
    const second = await deliver(t, QUEUE, queued[0], 2, stillDown);
    expect(first.retryMessages).toHaveLength(1);
    expect(second.retryMessages).toHaveLength(1);
    expect(second.delaySeconds!).toBeGreaterThan(first.delaySeconds!);
    expect(await objectsOf(user.id)).toHaveLength(3);

    // R2 is back: the purged files and the open upload are gone, the new export is kept.
    const healed = await deliver(t, QUEUE, queued[0], 3);
    expect(healed.retryMessages).toEqual([]);
    expect(healed.explicitAcks).toHaveLength(1);
    expect(await objectsOf(user.id)).toEqual([`exports/${user.id}/${fresh}.csv`]);
    expect(await uploadOpen(upload.key, upload.uploadId)).toBe(false);
    const res = await download(t, user, fresh);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^workout_id,/);

    // Delivered once more (at least once delivery): harmless.
    expect((await deliver(t, QUEUE, queued[0], 1)).explicitAcks).toHaveLength(1);
    expect(await objectsOf(user.id)).toEqual([`exports/${user.id}/${fresh}.csv`]);
    expect((await download(t, user, fresh)).status).toBe(200);
  });

  it("a retry that never succeeds is dead-lettered: recorded, and logged as an error naming only the user", async () => {
    const { user, upload } = await userWithExports(t);
    const [message] = await purgeWhileR2Fails(t, user);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});

    await t.queue.send(message!);
    const drained = await drainQueue(t, { deps: { exportsBucket: failingBucket() } });

    expect(drained.delivered).toHaveLength(MAX_DELIVERIES);
    expect(drained.deadLettered).toEqual([message]);
    expect(await deadLetterRows(user.id)).toMatchObject([{ reason: "retries_exhausted", message_type: "purge_exports", user_id: user.id }]);
    const logged = errors.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(user.id));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: "error", userId: user.id });
    expect(logged[0]).not.toContain(upload.uploadId);
    expect(logged[0]).not.toContain("exports/");
  });

  it("with R2 healthy, removes the files at once and queues nothing", async () => {
    const { user, upload } = await userWithExports(t);
    expect((await t.request(`${CONN}?purge=true`, { method: "DELETE", token: user.token })).status).toBe(204);
    expect(t.queue.take()).toEqual([]);
    expect(await exportRowCount(user.id)).toBe(0);
    expect(await objectsOf(user.id)).toEqual([]);
    expect(await uploadOpen(upload.key, upload.uploadId)).toBe(false);
  });
});
