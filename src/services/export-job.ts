import { and, eq, inArray, isNull } from "drizzle-orm";
import { exports } from "../db/schema";
import type { Deps } from "../deps";
import type { ExportMessage } from "../queue/messages";
import { d1SetRows, EXPORT_HEADER, type RowPager, type SetRow, setRecords } from "./export-rows";
import { MIN_PART_SIZE, PartWriter } from "./export-upload";
import { abortUpload, contentDisposition, CSV_CONTENT_TYPE, type ExportRow } from "./exports";

// The export job (SYNC_QUEUE message `export`): rows from D1 in keyset pages,
// encoded one page at a time into one fixed part buffer of an R2 multipart
// upload. Memory is one part buffer plus one page, whatever the row count.
//
// The row's upload_id is the job's lease: an attempt claims the export by
// swapping in its own upload id (compare-and-set), aborts the upload an earlier
// attempt left, and every later write it makes (progress, done, failure)
// applies only while the row still names its upload. So a redelivered message
// never leaves a second or half-written object, and an attempt that lost the
// lease, or whose export was deleted, stops without touching the row.

export interface ExportJobOptions {
  /** Set rows per D1 query. */
  pageSize: number;
  /** Bytes per multipart part; R2 needs at least 5 MiB and equal parts but the last. */
  partSize: number;
  /**
   * D1 pages one invocation may read. Workers Paid allows 1,000 D1 queries per invocation;
   * the rest of the budget is the progress update per part (~170 for 800 pages of long rows).
   */
  maxPages: number;
  /** Tests: wrap or replace the D1 row source. */
  rows?: (d1Rows: RowPager) => RowPager;
  /** Tests: wrap the bucket (e.g. to make an upload fail). */
  bucket?: (bucket: R2Bucket) => R2Bucket;
  /** Called with the figures of a finished export (tests, benchmarks). */
  onDone?: (stats: ExportStats) => void;
}

export const defaultExportJobOptions: ExportJobOptions = { pageSize: 2_000, partSize: MIN_PART_SIZE, maxPages: 800 };

export interface ExportStats {
  exportId: string;
  rows: number;
  bytes: number;
  parts: number;
  pages: number;
  /** High-water mark of what the job itself holds: the part buffer plus the largest encoded page. */
  peakBufferedBytes: number;
  /** Largest page as a JS string (UTF-16 code units) before encoding. */
  peakPageChars: number;
  d1RoundTrips: number | null;
  ms: number;
}

export type ExportJobDeps = Pick<Deps, "db" | "d1" | "now" | "exportsBucket" | "d1Stats">;

/** Permanent: retrying cannot help, the export is failed at once. */
class ExportTooLarge extends Error {
  constructor(rows: number) {
    super(`This export would have more than ${rows} rows, the most one export job writes. Request a shorter range with from/to.`);
    this.name = "ExportTooLarge";
  }
}

/** Another attempt owns the export now, or it was deleted. */
class LeaseLost extends Error {
  override name = "LeaseLost";
}

const encoder = new TextEncoder();

export async function runExportJob(deps: ExportJobDeps, message: ExportMessage, options: ExportJobOptions = defaultExportJobOptions): Promise<void> {
  const { db } = deps;
  const bucket = options.bucket ? options.bucket(deps.exportsBucket) : deps.exportsBucket;
  const row = await db.select().from(exports).where(and(eq(exports.id, message.exportId), eq(exports.userId, message.userId))).get();
  // Deleted (purge), or a redelivery of a job that already finished.
  if (!row || row.status === "done" || row.status === "failed") return;

  const upload = await bucket.createMultipartUpload(row.objectKey, {
    httpMetadata: { contentType: CSV_CONTENT_TYPE, contentDisposition: contentDisposition(row.createdAt) },
    customMetadata: { export_id: row.id, user_id: row.userId },
  });
  const mine = and(eq(exports.id, row.id), eq(exports.uploadId, upload.uploadId));
  const claim = await db
    .update(exports)
    .set({ status: "running", uploadId: upload.uploadId, startedAt: deps.now(), rowCount: 0, sizeBytes: 0 })
    .where(and(
      eq(exports.id, row.id),
      inArray(exports.status, ["queued", "running"]),
      row.uploadId === null ? isNull(exports.uploadId) : eq(exports.uploadId, row.uploadId),
    ))
    .run();
  if (claim.meta.changes === 0) {
    await abortUpload(bucket, row.objectKey, upload.uploadId); // another delivery got there first
    return;
  }
  // An earlier attempt that died (or could not abort) left its upload: it must never complete.
  if (row.uploadId) await abortUpload(bucket, row.objectKey, row.uploadId);

  try {
    const stats = await writeCsv(deps, row, upload, options);
    const done = await db
      .update(exports)
      .set({ status: "done", rowCount: stats.rows, sizeBytes: stats.bytes, completedAt: deps.now(), uploadId: null, error: null })
      .where(mine)
      .run();
    if (done.meta.changes === 0) {
      // Deleted or failed while it ran (a purge, another Hevy account connected): do not leave the
      // file behind. (A takeover writes the same key itself.)
      const now = await db.select({ status: exports.status }).from(exports).where(eq(exports.id, row.id)).get();
      if (!now || now.status === "failed") await bucket.delete(row.objectKey);
      return;
    }
    console.log(JSON.stringify({ level: "info", msg: "export done", ...stats }));
    options.onDone?.(stats);
  } catch (err) {
    const aborted = await abortUpload(bucket, row.objectKey, upload.uploadId);
    if (err instanceof LeaseLost) return;
    const permanent = err instanceof ExportTooLarge;
    const reason = err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
    const recorded = await db
      .update(exports)
      .set(permanent
        ? { status: "failed", error: reason, completedAt: deps.now(), uploadId: aborted ? null : upload.uploadId }
        // The queue retries it; after its last retry the dead-letter consumer marks it failed.
        : { status: "queued", error: `Writing the export failed: ${reason}; retrying`, uploadId: aborted ? null : upload.uploadId })
      .where(mine)
      .run();
    if (permanent || recorded.meta.changes === 0) return;
    throw err;
  }
}

async function writeCsv(deps: ExportJobDeps, row: ExportRow, upload: R2MultipartUpload, options: ExportJobOptions): Promise<ExportStats> {
  const started = Date.now();
  const roundTripsBefore = deps.d1Stats?.roundTrips ?? 0;
  const d1Rows = d1SetRows(deps.d1, row.userId, { from: row.rangeFrom, to: row.rangeTo });
  const nextPage = options.rows ? options.rows(d1Rows) : d1Rows;
  let rows = 0;
  const writer = new PartWriter(upload, options.partSize, async (parts) => {
    // Progress for the export view, and the lease check: stop if the row no longer names this upload.
    const res = await deps.db
      .update(exports)
      .set({ rowCount: rows, sizeBytes: parts * options.partSize })
      .where(and(eq(exports.id, row.id), eq(exports.uploadId, upload.uploadId)))
      .run();
    if (res.meta.changes === 0) throw new LeaseLost();
  });

  const header = encoder.encode(EXPORT_HEADER);
  await writer.write(header);
  let peakPageBytes = header.byteLength;
  let peakPageChars = 0;
  let pages = 0;
  let after: SetRow | null = null;
  const record = setRecords();
  for (;;) {
    if (pages === options.maxPages) {
      if ((await nextPage(after, 1)).length > 0) throw new ExportTooLarge(rows);
      break;
    }
    const page = await nextPage(after, options.pageSize);
    pages++;
    if (page.length === 0) break;
    const text = page.map(record).join("");
    const bytes = encoder.encode(text);
    peakPageChars = Math.max(peakPageChars, text.length);
    peakPageBytes = Math.max(peakPageBytes, bytes.byteLength);
    await writer.write(bytes);
    rows += page.length;
    after = page[page.length - 1]!;
    if (page.length < options.pageSize) break;
  }
  const object = await writer.finish();
  return {
    exportId: row.id,
    rows,
    bytes: object.size,
    parts: Math.ceil(object.size / options.partSize),
    pages,
    peakBufferedBytes: writer.partSize + peakPageBytes,
    peakPageChars,
    d1RoundTrips: deps.d1Stats ? deps.d1Stats.roundTrips - roundTripsBefore : null,
    ms: Date.now() - started,
  };
}
