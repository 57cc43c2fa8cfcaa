import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Deps } from "./deps";
import type { AppEnv } from "./env";
import { AppError, problemResponse } from "./lib/errors";
import { limitBody, MIB, requireUser, withDeps } from "./lib/middleware";
import { openApiDocument } from "./lib/openapi";
import { adminRoutes } from "./routes/admin";
import { connectionRoutes } from "./routes/connections";
import { docsRoutes } from "./routes/docs";
import { exportRoutes } from "./routes/exports";
import { hevyMetricsRoutes } from "./routes/hevy-metrics";
import { pageError, pageRoutes } from "./routes/pages";
import { recoveryRoutes } from "./routes/recovery";
import { sourceRoutes } from "./routes/sources";
import { unifiedRoutes } from "./routes/unified";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";
import { webhookRoutes } from "./routes/webhooks";
import { workoutRoutes } from "./routes/workouts";

export interface AppOptions {
  /** Replace parts of the per-request dependencies (tests: a controlled clock). */
  deps?: Partial<Deps>;
}

export function createApp(options: AppOptions = {}) {
  const app = new Hono<AppEnv>();

  app.use(requestId({ generator: () => crypto.randomUUID() }));
  app.use(withDeps(options.deps));

  app.use("/admin/*", limitBody(MIB));
  app.use("/api/*", limitBody(MIB));
  // The API's contract, open to anyone (SPEC §14): registered before the token check.
  app.get("/api/v1/openapi.json", async (c) => c.json(await openApiDocument(app)));
  app.use("/api/v1/*", requireUser);

  app.route("/admin/v1", adminRoutes);
  app.route("/api/v1/connections/hevy", connectionRoutes);
  app.route("/api/v1/exports", exportRoutes);
  app.route("/api/v1/hevy", hevyMetricsRoutes);
  app.route("/api/v1/workouts", workoutRoutes);
  app.route("/api/v1/workouts", unifiedRoutes);
  app.route("/api/v1/sources", sourceRoutes);
  app.route("/api/v1/recovery", recoveryRoutes);
  app.route("/api/v1/webhook-endpoints", webhookEndpointRoutes);
  app.route("/webhooks", webhookRoutes);
  app.route("/", docsRoutes);
  app.route("/", pageRoutes);

  app.notFound((c) => {
    const allowed = allowedMethods(app.routes, c.req.path);
    // A method the path has (e.g. GET on a path Hono's strict matching missed by a trailing slash) is a 404, not a 405.
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return problemResponse(
        new AppError(405, "method_not_allowed", "Method not allowed", `${c.req.method} is not allowed here.`, undefined, {
          allow: allowed.join(", "),
        }),
        c.var.requestId,
      );
    }
    return problemResponse(new AppError(404, "not_found", "Not found", `No route for ${c.req.method} ${c.req.path}.`), c.var.requestId);
  });

  app.onError((err, c) => {
    const requestId = c.var.requestId ?? crypto.randomUUID();
    const error = toAppError(err, requestId);
    if (isPagePath(c.req.path)) return c.html(pageError(error), error.status);
    return problemResponse(error, requestId);
  });

  return app;
}

/** Server-rendered pages answer errors with a page; everything else with problem+json. */
const isPagePath = (path: string) => !/^\/(api|admin|webhooks)(\/|$)/.test(path);

function toAppError(err: unknown, requestId: string): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && /malformed json/i.test(err.message)) {
      return new AppError(400, "invalid_json", "Malformed JSON", "The request body is not valid JSON.");
    }
    if (err.status === 400) return new AppError(400, "bad_request", "Bad request", err.message);
    return new AppError(err.status, "http_error", err.message || "HTTP error");
  }
  // Unexpected: log what failed (never request bodies or secrets), answer without detail.
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(JSON.stringify({ level: "error", request_id: requestId, error: e.name, message: e.message.slice(0, 500) }));
  return new AppError(500, "internal_error", "Internal server error", "Something went wrong on our side. Quote the request_id if you contact support.");
}

/** Methods registered for `path` (ignoring middleware), for 405 answers with `Allow`. */
function allowedMethods(routes: ReadonlyArray<{ method: string; path: string }>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    if (routePattern(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

const patternCache = new Map<string, RegExp>();
function routePattern(routePath: string): RegExp {
  let re = patternCache.get(routePath);
  if (!re) {
    const body = routePath
      .replace(/\/$/, "")
      .split("/")
      .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    re = new RegExp(`^${body}/?$`);
    patternCache.set(routePath, re);
  }
  return re;
}
