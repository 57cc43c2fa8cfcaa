// Poison messages: bodies that are not a SYNC_QUEUE message end in the dead-letter
// queue and are recorded in dead_letters, never retried forever, never run, and
// never copied into D1 (a broken producer might have put a key or a token in one).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { handleQueueBatch } from "../src/queue/consumer";
import type { SyncMessage } from "../src/queue/messages";
import { deadLetterRows } from "./fault-helpers";
import { DEAD_LETTER_QUEUE, deliver, drainQueue, MAX_DELIVERIES, QUEUE } from "./queue-helpers";
import { connected, connectionRow, deltaOptions, syncRuns, useSyncContext } from "./sync-helpers";

/** SYNC_DLQ as the consumer sees it: keeps what was sent there, and how. */
class DeadLetterRecorder {
  readonly sent: Array<{ body: unknown; contentType?: string }> = [];
  async send(body: unknown, options?: QueueSendOptions) {
    this.sent.push({ body: structuredClone(body), contentType: options?.contentType });
  }
}

/** One delivery on the dead-letter queue with a fixed message id, as Cloudflare redelivers it. */
async function deliverDeadLetter(t: { env: Env }, id: string, body: unknown) {
  const batch = createMessageBatch<unknown>(DEAD_LETTER_QUEUE, [{ id, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, t.env);
  return getQueueResult(batch, ctx);
}

const rowsById = (ids: string[]) =>
  env.DB.prepare(`SELECT * FROM dead_letters WHERE id IN (${ids.map(() => "?").join(",")}) ORDER BY id`).bind(...ids).all<Record<string, any>>().then((r) => r.results);

describe("poison messages", () => {
  const t = useSyncContext();
  let dlq: DeadLetterRecorder;
  beforeEach(() => {
    dlq = new DeadLetterRecorder();
    t.env.SYNC_DLQ = dlq as unknown as Env["SYNC_DLQ"];
  });

  it("are acknowledged at once, sent to the dead-letter queue unchanged, and run nothing", async () => {
    const { user } = await connected(t, 3);
    const before = { connection: await connectionRow(user.id), runs: await syncRuns(user.id) };
    const requestsBefore = t.hevy.requests.length;
    const poison: unknown[] = [
      { type: "backfill", userId: user.id, runId: "r1", phase: "everything", page: 1 },
      { type: "backfill", userId: user.id, runId: "r1", phase: "workouts", page: 0 },
      { type: "delta", userId: 42, reason: "cron" },
      { type: "delta", reason: "cron" },
      { type: "teleport", userId: user.id },
      { type: "webhook_workout", userId: user.id, workoutId: "", deliveryId: "d" },
      { type: "export", userId: user.id, exportId: "e".repeat(65) },
      { type: "delta", userId: "u".repeat(100_000), reason: "cron" },
      "delta",
      null,
      [],
      42,
      new Uint8Array([1, 2, 3]),
    ];
    for (const body of poison) {
      const result = await deliver(t, QUEUE, body, 1, deltaOptions());
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(1);
    }
    expect(dlq.sent).toEqual(poison.map((body) => ({ body, contentType: "v8" })));
    expect(t.hevy.requests.length).toBe(requestsBefore);
    expect(t.queue.messages).toEqual([]);
    expect({ connection: await connectionRow(user.id), runs: await syncRuns(user.id) }).toEqual(before);
  });

  it("are recorded once each by the dead-letter consumer: reason, type, user and what was wrong, never the body's text", async () => {
    const { user, apiKey } = await connected(t, 1);
    const bodies: Record<string, unknown> = {
      phase: { type: "backfill", userId: user.id, runId: "r1", phase: "everything", page: 1 },
      // A broken producer that put secrets in a message: they must not reach D1.
      secrets: { type: "delta", userId: user.id, reason: "soon", apiKey, token: `vt_${"s".repeat(40)}` },
      text: "not a message",
      bytes: new Uint8Array(7),
      huge: { type: "delta", userId: user.id, reason: "later", padding: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`.padEnd(100, "x"), Array(30).fill("v")])) },
    };
    const ids = Object.keys(bodies).map((k) => `dl-${k}-${crypto.randomUUID()}`);
    for (const [i, body] of Object.values(bodies).entries()) {
      expect((await deliverDeadLetter(t, ids[i]!, body)).explicitAcks).toEqual([ids[i]]);
    }
    // Cloudflare delivers at least once: the same dead letter again is not a second row.
    expect((await deliverDeadLetter(t, ids[0]!, bodies.phase)).explicitAcks).toEqual([ids[0]]);

    const rows = new Map((await rowsById(ids)).map((r) => [r.id as string, r]));
    expect(rows.size).toBe(ids.length);
    const row = (k: string) => rows.get(ids[Object.keys(bodies).indexOf(k)]!)!;
    expect(row("phase")).toMatchObject({ reason: "invalid_message", message_type: "backfill", user_id: user.id });
    expect(row("phase").error).toMatch(/^phase: /);
    expect(JSON.parse(row("phase").body_shape)).toEqual({ type: "<string 8>", userId: `<string ${user.id.length}>`, runId: "<string 2>", phase: "<string 10>", page: 1 });
    expect(row("secrets")).toMatchObject({ reason: "invalid_message", message_type: "delta", user_id: user.id });
    expect(row("secrets").error).toMatch(/^reason: /);
    expect(JSON.parse(row("secrets").body_shape)).toMatchObject({ apiKey: "<string 36>", token: "<string 43>" });
    expect(row("text")).toMatchObject({ reason: "invalid_message", message_type: null, user_id: null, body_shape: '"<string 13>"' });
    expect(row("bytes")).toMatchObject({ reason: "invalid_message", body_shape: '"<7 bytes>"' });
    expect(row("huge")).toMatchObject({ reason: "invalid_message", message_type: "delta" });
    expect(row("huge").body_shape).toHaveLength(4_096 + 1); // cut, with an ellipsis
    const everything = JSON.stringify([...rows.values()]);
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain("sssssss");
    expect(everything).not.toContain("not a message");
    // Poison is the operator's business: the user's connection and runs are untouched.
    expect((await connectionRow(user.id))!.last_error).toBeNull();
    expect(await syncRuns(user.id, "delta")).toEqual([]);
  });

  it("end in the dead-letter queue even when sending them there fails: retried with backoff until max_retries, then recorded", async () => {
    await connected(t, 0);
    t.env.SYNC_DLQ = { send: async () => { throw new Error("dead-letter queue unavailable"); } } as unknown as Env["SYNC_DLQ"];
    const body = { type: "delta", userId: "user-poison-retry", reason: "yesterday" };
    t.queue.messages.push(body as unknown as SyncMessage);
    const drained = await drainQueue(t, deltaOptions());
    expect(drained.delivered.map((d) => d.outcome)).toEqual(Array(MAX_DELIVERIES).fill("retry"));
    expect(drained.delivered.every((d) => d.delaySeconds! >= 1)).toBe(true);
    expect(drained.deadLettered).toEqual([body]);
    expect(await deadLetterRows("user-poison-retry")).toMatchObject([{ reason: "invalid_message", message_type: "delta", error: expect.stringMatching(/^reason: /) }]);
  });

  it("a real job whose retries ran out is recorded too, beside what the user sees", async () => {
    const { user } = await connected(t, 1);
    const job: SyncMessage = { type: "delta", userId: user.id, reason: "cron" };
    const id = `dl-job-${crypto.randomUUID()}`;
    expect((await deliverDeadLetter(t, id, job)).explicitAcks).toEqual([id]);
    expect(await rowsById([id])).toMatchObject([{ reason: "retries_exhausted", message_type: "delta", user_id: user.id, error: null }]);
    expect(JSON.parse((await rowsById([id]))[0]!.body_shape)).toEqual({ type: "<string 5>", userId: `<string ${user.id.length}>`, reason: "<string 4>" });
    expect((await connectionRow(user.id))!.last_error).toBe("Sync failed after repeated Hevy errors (repeated failures).");
  });
});
