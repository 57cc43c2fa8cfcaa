import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import worker from "../src/index";
import type { SyncMessage } from "../src/queue/messages";
import { createUser, dataDbs, dbOf, type TestContext } from "./helpers";
import { deliver, drainQueue, QUEUE } from "./queue-helpers";
import { stored, truth } from "./stored";
import { CONN, connected, connectionRow, deltaOptions, putWorkout, requestSync, useSyncContext } from "./sync-helpers";

/** SYNC_QUEUE as the cron sees it: records each sendBatch call; a single send() would be a mistake. */
class BatchRecorder {
  readonly calls: SyncMessage[][] = [];
  async send(): Promise<void> {
    throw new Error("the cron must fan out with sendBatch");
  }
  async sendBatch(batch: Iterable<MessageSendRequest<SyncMessage>>): Promise<QueueSendBatchResponse> {
    this.calls.push([...batch].map((m) => structuredClone(m.body)));
    return {} as QueueSendBatchResponse;
  }
}

async function runCron(t: TestContext, queue: { sendBatch: BatchRecorder["sendBatch"] }) {
  const cronEnv = { ...t.env, SYNC_QUEUE: queue as unknown as Env["SYNC_QUEUE"] } as Env;
  const ctx = createExecutionContext();
  const scheduled = worker.scheduled as ExportedHandlerScheduledHandler<Env>;
  await scheduled(createScheduledController({ cron: "0 * * * *", scheduledTime: Date.now() }), cronEnv, ctx);
  await waitOnExecutionContext(ctx);
}

/** `n` users, each with a connection in the given state, inserted in two statements. */
async function insertConnections(prefix: string, n: number, status: string, backfillState: string) {
  const series = `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?2 - 1)`;
  const id = `printf('%s-%05d', ?1, i)`;
  await env.DB.batch([
    env.DB.prepare(`${series} INSERT INTO users (id, email, timezone, created_at) SELECT ${id}, ${id} || '@example.com', 'UTC', 0 FROM s`).bind(prefix, n),
    env.DB.prepare(
      `${series} INSERT INTO hevy_connections (user_id, status, hevy_user_id, hevy_user_name, api_key_envelope, webhook_status,
         backfill_run_id, backfill_state, created_at, updated_at)
       SELECT ${id}, ?3, 'hevy-' || i, 'Lifter', 'v1.k0.not-a-real-envelope', 'unavailable', 'run-' || i, ?4, 0, 0 FROM s`,
    ).bind(prefix, n, status, backfillState),
  ]);
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);
}

describe("hourly cron", () => {
  const t = useSyncContext();

  it("fans 10,000 active connections out in one invocation, ≤ 100 messages per sendBatch, without calling Hevy", async () => {
    const prefix = `cron-${crypto.randomUUID().slice(0, 8)}`;
    const active = await insertConnections(`${prefix}-a`, 10_000, "active", "done");
    const skipped = [
      ...(await insertConnections(`${prefix}-r`, 100, "needs_reconnect", "done")),
      ...(await insertConnections(`${prefix}-q`, 100, "active", "queued")),
      ...(await insertConnections(`${prefix}-b`, 100, "active", "running")),
      ...(await insertConnections(`${prefix}-f`, 100, "active", "failed")),
    ];
    try {
      const queue = new BatchRecorder();
      const started = Date.now();
      await runCron(t, queue);
      const elapsed = Date.now() - started;

      const all = queue.calls.flat();
      // The stale queued/running and the failed backfills (updated_at 0) are resumed; see the next test.
      const resumed = all.filter((m) => m.type === "backfill").map((m) => m.userId);
      expect(resumed.sort()).toEqual(skipped.filter((id) => !id.startsWith(`${prefix}-r`)).sort());
      const sent = all.filter((m) => m.type !== "backfill");
      // Every database the cron fans out over: the directory (these users were placed before sharding) and each shard.
      const eligible = await Promise.all(
        dataDbs().map((db) => db.prepare("SELECT user_id FROM hevy_connections WHERE status = 'active' AND backfill_state = 'done'").all<{ user_id: string }>()),
      );
      expect(sent.map((m) => (m.type === "delta" ? m.userId : "?")).sort()).toEqual(eligible.flatMap((e) => e.results.map((r) => r.user_id)).sort());
      expect(new Set(sent.map((m) => m.userId)).size).toBe(sent.length); // one each
      expect(sent.every((m) => m.type === "delta" && m.reason === "cron")).toBe(true);
      const sentIds = new Set(sent.map((m) => m.userId));
      expect(active.every((id) => sentIds.has(id))).toBe(true);
      expect(skipped.some((id) => sentIds.has(id))).toBe(false);

      expect(queue.calls.every((c) => c.length >= 1 && c.length <= 100)).toBe(true);
      expect(queue.calls.length).toBeLessThanOrEqual(Math.ceil(all.length / 100) + 10); // batches are (nearly) full
      expect(t.hevy.requests).toEqual([]);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await env.DB.batch([
        env.DB.prepare("DELETE FROM hevy_connections WHERE user_id LIKE ?").bind(`${prefix}-%`),
        env.DB.prepare("DELETE FROM sync_runs WHERE user_id LIKE ?").bind(`${prefix}-%`),
        env.DB.prepare("DELETE FROM users WHERE id LIKE ?").bind(`${prefix}-%`),
      ]);
    }
  });

  it("resumes failed and stalled backfills from their last stored page, but not fresh ones or those needing a key", async () => {
    const failed = await connected(t, 30);
    const stalled = await connected(t, 30);
    const fresh = await connected(t, 30);
    const revoked = await connected(t, 30);
    const set = async (id: string, sqlSet: string) => (await dbOf(id)).prepare(`UPDATE hevy_connections SET ${sqlSet} WHERE user_id = ?`).bind(id).run();
    await set(failed.user.id, "backfill_state = 'failed', backfill_pages_done = 1");
    await set(stalled.user.id, `backfill_state = 'running', backfill_pages_done = 2, updated_at = ${Date.now() - 11 * 60_000}`);
    await set(fresh.user.id, `backfill_state = 'running', backfill_pages_done = 2, updated_at = ${Date.now()}`);
    await set(revoked.user.id, "status = 'needs_reconnect', backfill_state = 'failed'");
    t.queue.take();

    await runCron(t, t.queue);
    const mine = new Set([failed, stalled, fresh, revoked].map((c) => c.user.id));
    const resumes = t.queue.messages.filter((m) => m.type === "backfill" && mine.has(m.userId));
    expect(resumes.map((m) => [m.userId, m.type === "backfill" && m.page]).sort()).toEqual(
      [[failed.user.id, 2], [stalled.user.id, 3]].sort(),
    );
    for (const c of [failed, stalled]) {
      const row = (await connectionRow(c.user.id))!;
      expect(row.backfill_state).toBe("queued");
      expect(resumes.find((m) => m.userId === c.user.id)).toMatchObject({ runId: row.backfill_run_id });
    }
    await drainQueue(t, deltaOptions());
    for (const c of [failed, stalled]) {
      expect((await connectionRow(c.user.id))!.backfill_state).toBe("done");
      expect(await stored(c.user.id)).toEqual(truth(t.hevy.listWorkouts(c.apiKey)));
    }
    expect((await connectionRow(fresh.user.id))!.backfill_state).toBe("running");
    expect((await connectionRow(revoked.user.id))!.backfill_state).toBe("failed");
  });

  it("end to end: the cron's deltas store the changes of active, backfilled connections and leave the others alone", async () => {
    const a = await connected(t, 3);
    const b = await connected(t, 3);
    const revoked = await connected(t, 3);
    t.hevy.revokeKey(revoked.apiKey);
    await requestSync(t, revoked.user);
    await drainQueue(t, deltaOptions()); // its delta meets the 401: needs_reconnect
    expect((await connectionRow(revoked.user.id))!.status).toBe("needs_reconnect");
    const fresh = await createUser(t); // connected, backfill still queued
    const freshAccount = t.hevy.createAccount();
    expect((await t.request(CONN, { method: "PUT", token: fresh.token, json: { api_key: freshAccount.apiKey } })).status).toBe(202);
    t.queue.take();

    for (const c of [a, b, revoked]) putWorkout(t, c.apiKey, { title: "After the backfill" });
    const requestsBefore = t.hevy.requests.length;
    await runCron(t, t.queue);
    expect(t.hevy.requests.length).toBe(requestsBefore);
    const mine = new Set([a, b, revoked].map((c) => c.user.id).concat(fresh.id));
    const fanned = t.queue.take().filter((m) => mine.has(m.userId));
    expect(fanned.map((m) => m.userId).sort()).toEqual([a.user.id, b.user.id].sort());
    expect(fanned.every((m) => m.type === "delta" && m.reason === "cron")).toBe(true);

    for (const msg of fanned) expect((await deliver(t, QUEUE, msg, 1, deltaOptions())).retryMessages).toEqual([]);
    expect(await stored(a.user.id)).toEqual(truth(t.hevy.listWorkouts(a.apiKey)));
    expect(await stored(b.user.id)).toEqual(truth(t.hevy.listWorkouts(b.apiKey)));
    expect(await stored(revoked.user.id)).toHaveLength(3);
    expect(t.hevy.requests.slice(requestsBefore).every((r) => r.apiKey === a.apiKey || r.apiKey === b.apiKey)).toBe(true);
  });
});
