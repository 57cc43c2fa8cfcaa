import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { exports } from "../db/schema";
import type { Db } from "../db/client";
import type { Deps } from "../deps";
import { AppError, notFound } from "../lib/errors";
import { isoOrNull, isoUtc } from "../lib/time";
import { type ExportMessage, PURGE_UPLOADS_MAX, type PurgeExportsMessage } from "../queue/messages";
import type { ExportRange } from "./export-rows";

// Per-set CSV exports (SPEC §8): the request, the view, the download, and the
// bookkeeping around the job (src/services/export-job.ts) that writes the file.

export type ExportRow = typeof exports.$inferSelect;

export interface ExportView {
  id: string;
  status: ExportRow["status"];
  row_count: number;
  size_bytes: number;
  created_at: string;
  completed_at: string | null;
  error: string | null;
}

export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8";

/** Exports live under their owner's prefix, keyed by export id: a retried job rewrites the same object. */
export const exportObjectKey = (userId: string, exportId: string) => `exports/${userId}/${exportId}.csv`;
const userPrefix = (userId: string) => `exports/${userId}/`;

/** `hevy-sets-<creation date, UTC>.csv` */
export const exportFileName = (createdAt: number) => `hevy-sets-${new Date(createdAt).toISOString().slice(0, 10)}.csv`;
export const contentDisposition = (createdAt: number) => `attachment; filename="${exportFileName(createdAt)}"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const noSuchExport = () => notFound("No export with this id.");

export function toExportView(row: ExportRow): ExportView {
  return {
    id: row.id,
    status: row.status,
    row_count: row.rowCount,
    size_bytes: row.sizeBytes,
    created_at: isoUtc(row.createdAt),
    completed_at: isoOrNull(row.completedAt),
    error: row.error,
  };
}

/** POST /exports/hevy-csv: records the export and queues its job. */
export async function requestExport(deps: Pick<Deps, "db" | "queue" | "now">, userId: string, range: ExportRange): Promise<ExportView> {
  const id = crypto.randomUUID();
  const row = await deps.db
    .insert(exports)
    .values({
      id, userId, status: "queued", rangeFrom: range.from, rangeTo: range.to,
      objectKey: exportObjectKey(userId, id), createdAt: deps.now(),
    })
    .returning()
    .get();
  const message: ExportMessage = { type: "export", userId, exportId: id };
  try {
    await deps.queue.send(message);
  } catch (err) {
    // Nothing would ever run it: say so on the export rather than leave it queued forever.
    await deps.db.update(exports).set({ status: "failed", error: "The export could not be queued.", completedAt: deps.now() }).where(eq(exports.id, id));
    throw err;
  }
  return toExportView(row);
}

/** The caller's export; another user's id or an unknown one is 404. */
export async function findExport(deps: Pick<Deps, "db">, userId: string, id: string): Promise<ExportRow> {
  if (!UUID.test(id)) throw noSuchExport();
  const row = await deps.db.select().from(exports).where(and(eq(exports.id, id), eq(exports.userId, userId))).get();
  if (!row) throw noSuchExport();
  return row;
}

/** The user's most recent export, for the Connections page. */
export async function latestExport(deps: Pick<Deps, "db">, userId: string): Promise<ExportView | null> {
  const row = await deps.db.select().from(exports).where(eq(exports.userId, userId)).orderBy(desc(exports.createdAt)).limit(1).get();
  return row ? toExportView(row) : null;
}

/** GET /exports/{id}/download: the finished file, streamed from R2. */
export async function openExport(deps: Pick<Deps, "db">, bucket: R2Bucket, userId: string, id: string): Promise<{ row: ExportRow; object: R2ObjectBody }> {
  const row = await findExport(deps, userId, id);
  if (row.status === "failed") {
    throw new AppError(409, "export_failed", "Export failed", `This export failed and has no file: ${row.error ?? "unknown error"} Request a new one.`);
  }
  if (row.status !== "done") {
    throw new AppError(409, "export_not_ready", "Export not ready",
      `This export is ${row.status}; download it once GET /api/v1/exports/${row.id} shows status "done".`);
  }
  const object = await bucket.get(row.objectKey);
  if (!object) throw new AppError(410, "export_gone", "Export gone", "The file of this export no longer exists. Request a new one.");
  return { row, object };
}

/** The HTTP answer carrying a finished export (API download and the page's link alike). */
export function csvDownloadResponse(row: ExportRow, object: R2ObjectBody): Response {
  return new Response(object.body, {
    headers: {
      "content-type": CSV_CONTENT_TYPE,
      "content-disposition": contentDisposition(row.createdAt),
      "content-length": String(object.size),
      etag: object.httpEtag,
      // Health data: never kept by shared caches, and not kept by the browser either.
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

/** Aborts a multipart upload; false when R2 refused (it may already be completed or aborted). */
export async function abortUpload(bucket: R2Bucket, key: string, uploadId: string): Promise<boolean> {
  try {
    await bucket.resumeMultipartUpload(key, uploadId).abort();
    return true;
  } catch {
    return false;
  }
}

/**
 * The dead-letter consumer's part: an export whose job used up its retries is
 * marked failed with the last attempt's reason, and an upload it left is aborted.
 */
export async function recordExportDeadLetter(deps: Pick<Deps, "db" | "now">, bucket: R2Bucket, message: ExportMessage): Promise<void> {
  const { db } = deps;
  const row = await db.select().from(exports).where(and(eq(exports.id, message.exportId), eq(exports.userId, message.userId))).get();
  if (!row || row.status === "done" || row.status === "failed") return;
  if (row.uploadId) await abortUpload(bucket, row.objectKey, row.uploadId);
  const cause = row.error?.replace(/; retrying$/, "") ?? "the job did not finish";
  await db
    .update(exports)
    .set({ status: "failed", error: `Export failed after repeated attempts: ${cause}`, uploadId: null, completedAt: deps.now() })
    .where(and(eq(exports.id, row.id), inArray(exports.status, ["queued", "running"])));
}

/**
 * The statement deleting every export row of a user (it returns their open uploads), to run in the
 * same D1 batch as the purge of the Hevy rows they copy: then `removeExportFiles` with its result.
 * A job still running notices the missing row when it next records progress, and removes what it
 * wrote; one claiming an upload meanwhile either is returned here or finds its row gone.
 */
export type DeletedExportRow = { key: string; uploadId: string | null };

export function deleteExportRowsStatement(db: Db, userId: string) {
  return db.delete(exports).where(eq(exports.userId, userId)).returning({ key: exports.objectKey, uploadId: exports.uploadId });
}

/**
 * The R2 side of deleting a user's exports, after their rows went: tried inline; if R2 fails, the
 * request still succeeds and a purge_exports job finishes it, retried by the queue until R2
 * answers, so no file is left behind unnoticed (SPEC §11).
 */
export async function removeExportFiles(
  deps: Pick<Deps, "db" | "queue">,
  bucket: R2Bucket,
  userId: string,
  deleted: DeletedExportRow[],
): Promise<void> {
  const uploads = deleted.flatMap(({ key, uploadId }) => (uploadId ? [{ key, uploadId }] : []));
  try {
    await purgeExportFiles(deps, bucket, userId, uploads);
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "export purge: R2 failed, queued for retry", userId, error: String(err).slice(0, 300) }));
    // At least one message, even with no upload: it also sweeps the user's objects.
    for (let i = 0; i === 0 || i < uploads.length; i += PURGE_UPLOADS_MAX) {
      await deps.queue.send({ type: "purge_exports", userId, uploads: uploads.slice(i, i + PURGE_UPLOADS_MAX) });
    }
  }
}

/** Deletes every export of a user: rows, then files (removeExportFiles). */
export async function deleteUserExports(deps: Pick<Deps, "db" | "queue">, bucket: R2Bucket, userId: string): Promise<void> {
  await removeExportFiles(deps, bucket, userId, await deleteExportRowsStatement(deps.db, userId).all());
}

/**
 * Aborts the given uploads and deletes the user's objects that no export row
 * names any more: the purge's R2 work, inline and as the purge_exports job. Safe
 * to run again at any time: a row is written before its object, and each listed
 * page is checked against the table after it was listed, so the file of an
 * export created since the purge is kept. Any R2 failure throws.
 */
export async function purgeExportFiles(deps: Pick<Deps, "db">, bucket: R2Bucket, userId: string, uploads: PurgeExportsMessage["uploads"]): Promise<void> {
  for (const { key, uploadId } of uploads) {
    try {
      await bucket.resumeMultipartUpload(key, uploadId).abort();
    } catch (err) {
      // 10024 NoSuchUpload: already aborted or completed (a completed one's object goes below).
      if (!/\(10024\)$/.test(err instanceof Error ? err.message : "")) throw err;
    }
  }
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix: userPrefix(userId), cursor, limit: 1000 });
    const keys = listed.objects.map((o) => o.key);
    const named = keys.length === 0 ? [] : await deps.db
      .select({ key: exports.objectKey })
      .from(exports)
      .where(and(eq(exports.userId, userId), sql`${exports.objectKey} IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`))
      .all();
    const kept = new Set(named.map((r) => r.key));
    const orphans = keys.filter((k) => !kept.has(k));
    if (orphans.length > 0) await bucket.delete(orphans);
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
}
