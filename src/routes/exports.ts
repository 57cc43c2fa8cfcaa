import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { AppError, validationFailed } from "../lib/errors";
import { checkRange, instantParam } from "../lib/list-query";
import { documented, isoInstant } from "../lib/openapi";
import { isJsonMediaType } from "../lib/validation";
import { csvDownloadResponse, findExport, openExport, requestExport, toExportView } from "../services/exports";

const createBody = z
  .strictObject({ from: instantParam.optional(), to: instantParam.optional() })
  .superRefine(checkRange);

/**
 * The body of POST /exports/hevy-csv. Both fields are optional, so an empty body
 * means "everything"; a body must be JSON (415 otherwise) and valid (400).
 */
async function createInput(c: Context<AppEnv>): Promise<z.output<typeof createBody>> {
  const contentType = c.req.header("content-type");
  const isJson = isJsonMediaType(contentType);
  if ((contentType ?? "").trim() !== "" && !isJson) throw unsupportedMediaType();
  const text = await c.req.text();
  if (text.trim() === "") return {};
  if (!isJson) throw unsupportedMediaType();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError(400, "invalid_json", "Malformed JSON", "The request body is not valid JSON.");
  }
  const parsed = createBody.safeParse(json);
  if (!parsed.success) throw validationFailed(parsed.error.issues);
  return parsed.data;
}

const unsupportedMediaType = () =>
  new AppError(415, "unsupported_media_type", "Unsupported media type", "Send the body as JSON with Content-Type: application/json.");

const exportView = z
  .strictObject({
    id: z.string(),
    status: z.enum(["queued", "running", "done", "failed"]),
    row_count: z.number().int(),
    size_bytes: z.number().int(),
    created_at: isoInstant,
    completed_at: isoInstant.nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: "Export" });
const exportId = { id: { schema: z.uuid(), description: "The export's id" } };
const tags = ["Exports"];

export const exportRoutes = new Hono<AppEnv>()
  .post(
    "/hevy-csv",
    documented({
      summary: "Export every set as CSV", tags, auth: "user", errors: [400, 415, 503],
      description: "Optional JSON body `{from, to}` (workouts starting in [from, to)); an empty body exports everything.",
      body: { schema: createBody, required: false, description: "The range; empty for everything" },
      ok: { 202: { description: "Queued", schema: exportView.pick({ id: true, status: true }), headers: { location: "/api/v1/exports/{id}" } } },
    }),
    async (c) => {
      const input = await createInput(c);
      const view = await requestExport(c.var.deps, c.var.user.id, { from: input.from ?? null, to: input.to ?? null });
      c.header("location", `/api/v1/exports/${view.id}`);
      return c.json({ id: view.id, status: view.status }, 202);
    },
  )
  .get(
    "/:id",
    documented({ summary: "An export's state", tags, auth: "user", errors: [404], params: exportId, ok: { 200: { description: "The export", schema: exportView } } }),
    async (c) => c.json(toExportView(await findExport(c.var.deps, c.var.user.id, c.req.param("id")))),
  )
  .get(
    "/:id/download",
    documented({
      summary: "Download an export", tags, auth: "user", errors: [404, 409, 410], params: exportId,
      ok: { 200: { description: "The CSV file, one row per set", media: "text/csv", headers: { "content-disposition": "attachment; filename=\"hevy-sets-<date>.csv\"" } } },
    }),
    async (c) => {
      const { row, object } = await openExport(c.var.deps, c.var.deps.exportsBucket, c.var.user.id, c.req.param("id"));
      return csvDownloadResponse(row, object);
    },
  );
