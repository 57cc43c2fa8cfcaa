import type { z } from "zod";
import { fromBase64, toBase64Url, utf8 } from "./encoding";
import { AppError } from "./errors";

/** Opaque cursors: base64url JSON of the last row's sort key. Clients must not build them. */
export function encodeCursor(value: unknown): string {
  return toBase64Url(utf8(JSON.stringify(value)));
}

export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    if (cursor.length > 512) throw new Error("too long");
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64(cursor)));
  } catch {
    throw invalidCursor();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidCursor();
  return parsed.data;
}

const invalidCursor = () =>
  new AppError(400, "validation_failed", "Validation failed", "The cursor is not one this API issued.", [
    { path: "cursor", message: "invalid cursor" },
  ]);
