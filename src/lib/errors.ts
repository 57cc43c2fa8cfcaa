import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface FieldError {
  path: string;
  message: string;
}

/**
 * The one error type of the app. Anything thrown as an AppError becomes an
 * application/problem+json answer with its status and machine-readable code;
 * anything else becomes a 500 with no detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
    this.name = "AppError";
  }
}

export const payloadTooLarge = (maxBytes: number) =>
  new AppError(413, "payload_too_large", "Payload too large", `Request bodies are limited to ${maxBytes} bytes.`);

export const notFound = (detail = "No such resource.") => new AppError(404, "not_found", "Not found", detail);

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
}

export function problemBody(error: AppError, requestId: string): Problem {
  const body: Problem = {
    type: `urn:vitaltrends:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail ?? error.title,
    code: error.code,
    request_id: requestId,
  };
  if (error.errors) body.errors = error.errors;
  return body;
}

export function problemResponse(error: AppError, requestId: string): Response {
  return new Response(JSON.stringify(problemBody(error, requestId)), {
    status: error.status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId, ...error.headers },
  });
}

/** Turns zod-style issues into the `errors` list of a validation problem. */
export function validationFailed(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix?: string,
): AppError {
  const errors = issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== "").join("."),
    message: issue.message,
  }));
  return new AppError(400, "validation_failed", "Validation failed", "The request has invalid fields.", errors);
}
