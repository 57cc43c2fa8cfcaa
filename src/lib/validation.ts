import { zValidator } from "@hono/zod-validator";
import type { MiddlewareHandler } from "hono";
import { resolver, uniqueSymbol } from "hono-openapi";
import type { ValidationTargets } from "hono/types";
import type { z } from "zod";
import { AppError, validationFailed } from "./errors";

/**
 * zod validation for any request part, with the one failure shape of the API:
 * 400 problem+json `validation_failed` listing every bad field. The middleware
 * also carries the schema for the OpenAPI document (hono-openapi's marker for
 * custom middleware, the same one its own validator sets): the schema that
 * checks a request is the one that describes it.
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) =>
  Object.assign(
    zValidator(target, schema, (result) => {
      if (!result.success) throw validationFailed(result.error.issues);
    }),
    { [uniqueSymbol]: { target, ...resolver(schema) } },
  );

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** True for application/json and application/*+json (parameters such as charset ignored). */
export const isJsonMediaType = (contentType: string | undefined) =>
  JSON_MEDIA_TYPE.test((contentType ?? "").split(";")[0]?.trim() ?? "");

/** JSON routes refuse other media types with 415 rather than validating an empty body. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (!isJsonMediaType(c.req.header("content-type"))) {
    throw new AppError(415, "unsupported_media_type", "Unsupported media type",
      "Send the body as JSON with Content-Type: application/json.");
  }
  await next();
};

/** `requireJson` then `validate("json", schema)`. */
export const jsonBody = <Schema extends z.ZodType>(schema: Schema) => [requireJson, validate("json", schema)] as const;
