import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ExportMessage } from "../src/queue/messages";
import type { ExportJobOptions, ExportStats } from "../src/services/export-job";
import type { RowPager, SetRow } from "../src/services/export-rows";
import { deleteUserExports } from "../src/services/exports";
import { createUser, dbOf, depsFor, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { deliver, drainQueue, QUEUE } from "./queue-helpers";
import { uploadOpen } from "./r2-helpers";

// The export job through the real queue consumer and local R2: failures, retries,
// redeliveries, multipart parts, and what each leaves behind.

const EXPORTS = "/api/v1/exports";
const MIB = 1024 * 1024;
/** ISO 8601 UTC, milliseconds only when there are some. */
const isoMs = (ms: number) => (ms % 1000 === 0 ? new Date(ms).toISOString().replace(".000Z", "Z") : new Date(ms).toISOString());

/** Workouts written straight to D1 (the job only reads them): `sets` sets of one exercise each, an hour apart. */
async function seedWorkouts(userId: string, count: number, sets: number): Promise<void> {
  const db = await dbOf(userId);
  const statements: D1PreparedStatement[] = [];
  for (let w = 0; w < count; w++) {
    const id = `w-${String(w).padStart(4, "0")}`;
    const start = Date.UTC(2026, 0, 1) + w * 3_600_000;
    statements.push(
      db.prepare(
        "INSERT INTO hevy_workouts (user_id, id, title, start_time, end_time, hevy_updated_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).bind(userId, id, `Workout ${w}`, start, start + 1_800_000, start + 2_000_000, start),
      db.prepare("INSERT INTO hevy_user_keys (user_id) VALUES (?) ON CONFLICT DO NOTHING").bind(userId),
      db.prepare(
        `INSERT INTO hevy_exercises (workout_key, exercise_index, user_key, title)
         VALUES ((SELECT key FROM hevy_workouts WHERE user_id = ?1 AND id = ?2), 0, (SELECT key FROM hevy_user_keys WHERE user_id = ?1), 'Squat')`,
      ).bind(userId, id),
    );
    for (let s = 0; s < sets; s++) {
      statements.push(
        // Type 0: normal (src/db/set-type.ts).
        db.prepare(
          `INSERT INTO hevy_sets (workout_key, exercise_index, set_index, type, weight_kg, reps)
           VALUES ((SELECT key FROM hevy_workouts WHERE user_id = ?1 AND id = ?2), 0, ?3, 0, ?4, 5)`,
        ).bind(userId, id, s, 100 + s),
      );
    }
  }
  await db.batch(statements);
}

async function requestExport(t: TestContext, user: TestUser): Promise<ExportMessage> {
  const res = await t.request(`${EXPORTS}/hevy-csv`, { method: "POST", token: user.token, json: {} });
  expect(res.status).toBe(202);
  const [message] = t.queue.take();
  expect(message?.type).toBe("export");
  return message as ExportMessage;
}

const exportRow = async (m: ExportMessage) =>
  (await dbOf(m.userId)).prepare("SELECT * FROM exports WHERE id = ?").bind(m.exportId).first<Record<string, unknown>>();
const objectKey = (m: ExportMessage) => `exports/${m.userId}/${m.exportId}.csv`;
const objectsOf = async (userId: string) => (await env.EXPORTS.list({ prefix: `exports/${userId}/` })).objects.map((o) => o.key);
const view = async (t: TestContext, user: TestUser, id: string) =>
  (await (await t.request(`${EXPORTS}/${id}`, { token: user.token })).json()) as Record<string, unknown>;


/** The real bucket, seen through: records the uploads created; `failAbort` makes the next N aborts throw. */
function watchedBucket() {
  const uploads: string[] = [];
  let failAbort = 0;
  const wrap = (real: R2Bucket): R2Bucket =>
    new Proxy(real, {
      get(target, prop) {
        if (prop === "createMultipartUpload") {
          return async (key: string, opts?: R2MultipartOptions) => {
            const upload = await target.createMultipartUpload(key, opts);
            uploads.push(upload.uploadId);
            return upload;
          };
        }
        if (prop === "resumeMultipartUpload") {
          return (key: string, uploadId: string) => {
            const upload = target.resumeMultipartUpload(key, uploadId);
            return {
              key, uploadId,
              uploadPart: upload.uploadPart.bind(upload),
              complete: upload.complete.bind(upload),
              abort: async () => {
                if (failAbort > 0) {
                  failAbort--;
                  throw new Error("R2 is unreachable");
                }
                return upload.abort();
              },
            };
          };
        }
        const value = (target as unknown as Record<PropertyKey, unknown>)[prop];
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { uploads, wrap, failNextAborts: (n: number) => (failAbort = n) };
}

/** D1's rows, failing when asked for the page after the first while `failing()` says so. */
const failingAfterFirstPage = (failing: () => boolean) => (d1: RowPager): RowPager => async (after, limit) => {
  if (after !== null && failing()) throw new Error("D1 went away");
  return d1(after, limit);
};

describe("export job", () => {
  const t = useTestContext();

  it("aborts the upload of every failed attempt and, after the last retry, marks the export failed with the reason", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 3, 2);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    t.queue.messages.push(message);
    const result = await drainQueue(t, { export: { pageSize: 2, rows: failingAfterFirstPage(() => true), bucket: bucket.wrap } });

    expect(result.delivered.map((d) => d.outcome)).toEqual(["retry", "retry", "retry", "retry", "retry", "retry"]);
    expect(result.deadLettered).toEqual([message]);
    expect(await view(t, user, message.exportId)).toMatchObject({
      status: "failed",
      error: "Export failed after repeated attempts: Writing the export failed: D1 went away",
      completed_at: expect.any(String),
    });
    expect((await exportRow(message))!.upload_id).toBeNull();
    expect(bucket.uploads).toHaveLength(6);
    for (const id of bucket.uploads) expect(await uploadOpen(objectKey(message), id)).toBe(false);
    expect(await objectsOf(user.id)).toEqual([]);
    await expectProblem(await t.request(`${EXPORTS}/${message.exportId}/download`, { token: user.token }), 409, "export_failed");
  });

  it("retries after a failed attempt and leaves exactly one complete object", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 3, 2);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    let attempt = 0;
    const job: Partial<ExportJobOptions> = { pageSize: 2, rows: failingAfterFirstPage(() => attempt === 1), bucket: bucket.wrap };

    attempt = 1;
    expect((await deliver(t, QUEUE, message, 1, { export: job })).retryMessages).toHaveLength(1);
    expect(await view(t, user, message.exportId)).toMatchObject({ status: "queued", error: "Writing the export failed: D1 went away; retrying" });
    attempt = 2;
    expect((await deliver(t, QUEUE, message, 2, { export: job })).explicitAcks).toHaveLength(1);

    expect(await view(t, user, message.exportId)).toMatchObject({ status: "done", row_count: 6, error: null });
    expect(bucket.uploads).toHaveLength(2);
    expect(await uploadOpen(objectKey(message), bucket.uploads[0]!)).toBe(false);
    expect(await objectsOf(user.id)).toEqual([objectKey(message)]);
    const text = await (await t.request(`${EXPORTS}/${message.exportId}/download`, { token: user.token })).text();
    expect(text.split("\r\n").filter(Boolean)).toHaveLength(1 + 6);
  });

  it("aborts, on the next attempt, an upload an earlier attempt could not abort", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 2, 2);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    let attempt = 1;
    const job: Partial<ExportJobOptions> = { pageSize: 2, rows: failingAfterFirstPage(() => attempt === 1), bucket: bucket.wrap };

    bucket.failNextAborts(1);
    await deliver(t, QUEUE, message, 1, { export: job });
    const [first] = bucket.uploads;
    expect((await exportRow(message))!.upload_id).toBe(first); // still recorded: nobody could abort it
    expect(await uploadOpen(objectKey(message), first!)).toBe(true);

    attempt = 2;
    await deliver(t, QUEUE, message, 2, { export: job });
    expect(await view(t, user, message.exportId)).toMatchObject({ status: "done", row_count: 4 });
    expect(await uploadOpen(objectKey(message), first!)).toBe(false);
    expect((await exportRow(message))!.upload_id).toBeNull();
    expect(await objectsOf(user.id)).toEqual([objectKey(message)]);
  });

  it("does nothing when a finished export's message is delivered again", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 2, 3);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    await deliver(t, QUEUE, message, 1, { export: { bucket: bucket.wrap } });
    const before = { row: await exportRow(message), etag: (await env.EXPORTS.head(objectKey(message)))!.etag };

    expect((await deliver(t, QUEUE, message, 1, { export: { bucket: bucket.wrap } })).explicitAcks).toHaveLength(1);
    expect(bucket.uploads).toHaveLength(1);
    expect(await exportRow(message)).toEqual(before.row);
    expect((await env.EXPORTS.head(objectKey(message)))!.etag).toBe(before.etag);
  });

  it("ends with one object and no open upload when two deliveries of the message run at once", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 6, 3);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    const job = { pageSize: 4, bucket: bucket.wrap };
    await Promise.all([deliver(t, QUEUE, message, 1, { export: job }), deliver(t, QUEUE, message, 1, { export: job })]);
    t.queue.take();

    expect(await view(t, user, message.exportId)).toMatchObject({ status: "done", row_count: 18, error: null });
    expect(await objectsOf(user.id)).toEqual([objectKey(message)]);
    for (const id of bucket.uploads) expect(await uploadOpen(objectKey(message), id)).toBe(false);
    const text = await (await t.request(`${EXPORTS}/${message.exportId}/download`, { token: user.token })).text();
    expect(text.split("\r\n").filter(Boolean)).toHaveLength(1 + 18);
  });

  it("fails at once, without retries, when the export is larger than one job may write", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 3, 2);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    t.queue.messages.push(message);
    const result = await drainQueue(t, { export: { pageSize: 2, maxPages: 2, bucket: bucket.wrap } });

    expect(result.delivered.map((d) => d.outcome)).toEqual(["ack"]);
    const v = await view(t, user, message.exportId);
    expect(v).toMatchObject({ status: "failed", completed_at: expect.any(String) });
    expect(v.error).toMatch(/more than 4 rows.*from\/to/);
    expect(await uploadOpen(objectKey(message), bucket.uploads[0]!)).toBe(false);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it("stops and leaves nothing when the export is deleted while its job runs", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 3, 2);
    const message = await requestExport(t, user);
    const bucket = watchedBucket();
    const rows = (d1: RowPager): RowPager => async (after, limit) => {
      if (after !== null) await (await dbOf(user.id)).prepare("DELETE FROM exports WHERE id = ?").bind(message.exportId).run();
      return d1(after, limit);
    };
    expect((await deliver(t, QUEUE, message, 1, { export: { pageSize: 2, rows, bucket: bucket.wrap } })).explicitAcks).toHaveLength(1);
    expect(await exportRow(message)).toBeNull();
    expect(await objectsOf(user.id)).toEqual([]);
    expect(await uploadOpen(objectKey(message), bucket.uploads[0]!)).toBe(false);
  });

  it("reads one D1 query per page and records progress once per part", async () => {
    const user = await createUser(t);
    await seedWorkouts(user.id, 10, 3);
    const message = await requestExport(t, user);
    const seen: ExportStats[] = [];
    for (const pageSize of [4, 30, 100]) {
      await (await dbOf(user.id)).prepare("UPDATE exports SET status = 'queued' WHERE id = ?").bind(message.exportId).run();
      await deliver(t, QUEUE, message, 1, { export: { pageSize, onDone: (s) => seen.push(s) } });
    }
    // 30 rows: 8 pages of 4 (the last short), 2 of 30 (the second finds nothing), 1 of 100.
    expect(seen.map((s) => [s.rows, s.pages, s.parts, s.d1RoundTrips])).toEqual([[30, 8, 1, 9], [30, 2, 1, 3], [30, 1, 1, 2]]);
  });
});

describe("multipart parts", () => {
  const t = useTestContext();

  it("cuts equal parts of exactly the part size, holds one part and one page, and the file reads back whole", async () => {
    const user = await createUser(t);
    const message = await requestExport(t, user);
    // Synthetic rows with multi-byte text, so part boundaries fall inside records and inside UTF-8 sequences.
    const total = 60_000;
    // 25 sets per workout, 5 per exercise; a row's place is its key.
    const row = (i: number): SetRow => {
      const w = Math.floor(i / 25);
      const start = Date.UTC(2020, 0, 1) + w * 3_600_000;
      return {
        workout_id: `w${w}`, workout_title: `Séance ${w} — 💪 "push", legs`, start_time: start, end_time: start + 3_600_500,
        exercise_index: Math.floor((i % 25) / 5), exercise_title: "Kniebeuge (Langhantel)", exercise_template_id: "D04AC939", superset_id: null,
        exercise_notes: Math.floor(i / 5) % 7 === 0 ? "=SUM(A1:A9)" : null, set_index: i % 5, set_type: "normal",
        weight_kg: 100 + (i % 40) * 2.5, reps: 5, distance_meters: null, duration_seconds: null, rpe: 8.5, custom_metric: null,
        workout_updated_at: start + 4_000_000 + (w % 1000),
      };
    };
    const rows = (): RowPager => async (after, limit) => {
      const start = after === null ? 0 : Number(after.workout_id.slice(1)) * 25 + after.exercise_index * 5 + after.set_index + 1;
      return Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, k) => row(start + k));
    };
    let stats: ExportStats | undefined;
    await deliver(t, QUEUE, message, 1, { export: { rows, onDone: (s) => (stats = s) } });

    const res = await t.request(`${EXPORTS}/${message.exportId}/download`, { token: user.token });
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBeGreaterThan(10 * MIB); // three parts: 5 MiB, 5 MiB and the rest
    expect(stats).toMatchObject({ rows: total, bytes: bytes.byteLength, parts: 3 });
    expect(await view(t, user, message.exportId)).toMatchObject({ status: "done", row_count: total, size_bytes: bytes.byteLength });
    // What the job held at most: one 5 MiB part buffer and one encoded page (2,000 rows), not the file.
    expect(stats!.peakBufferedBytes).toBeLessThan(5 * MIB + 512 * 1024);

    const lines = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes).split("\r\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(1 + total);
    for (const i of [0, 1, 29_000, 29_001, total - 1]) {
      const r = row(i);
      expect(lines[1 + i]).toBe(
        `${r.workout_id},"Séance ${Math.floor(i / 25)} — 💪 ""push"", legs",${isoMs(r.start_time)},${isoMs(r.end_time)},3601,` +
          `${r.exercise_index},Kniebeuge (Langhantel),D04AC939,,${Math.floor(i / 5) % 7 === 0 ? "'=SUM(A1:A9)" : ""},${r.set_index},normal,${r.weight_kg},5,,,8.5,,` +
          isoMs(r.workout_updated_at),
      );
    }
  });
});

describe("deleting a user's exports (purge)", () => {
  const t = useTestContext();

  it("removes their rows, objects and open uploads, and nobody else's", async () => {
    const user = await createUser(t);
    const other = await createUser(t);
    await seedWorkouts(user.id, 2, 2);
    const done = await requestExport(t, user);
    await deliver(t, QUEUE, done, 1);
    const running = await requestExport(t, user);
    const open = await env.EXPORTS.createMultipartUpload(objectKey(running));
    await (await dbOf(user.id)).prepare("UPDATE exports SET status = 'running', upload_id = ? WHERE id = ?").bind(open.uploadId, running.exportId).run();
    await env.EXPORTS.put(`exports/${user.id}/stray.csv`, "x");
    const kept = await requestExport(t, other);
    await deliver(t, QUEUE, kept, 1);

    await deleteUserExports(await depsFor(user.id, { queue: t.env.SYNC_QUEUE }), t.env.EXPORTS, user.id);

    expect((await (await dbOf(user.id)).prepare("SELECT id FROM exports WHERE user_id = ?").bind(user.id).all()).results).toEqual([]);
    expect(await objectsOf(user.id)).toEqual([]);
    expect(await uploadOpen(objectKey(running), open.uploadId)).toBe(false);
    expect(await objectsOf(other.id)).toEqual([objectKey(kept)]);
    expect((await t.request(`${EXPORTS}/${kept.exportId}/download`, { token: other.token })).status).toBe(200);
  });
});
