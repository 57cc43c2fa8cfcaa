import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv, AuthUser } from "../env";
import { randomSecret, timingSafeEqualStrings } from "../lib/crypto";
import { AppError, notFound, validationFailed } from "../lib/errors";
import { DEFAULT_LIMIT } from "../lib/list-query";
import { limitBody, refuseWritesWhileMoving, userSession } from "../lib/middleware";
import { endSession, openSession, SESSION_COOKIE, SESSION_TTL_MS, sealSession, type Session, startSession } from "../lib/session";
import { ConnectionPage } from "../pages/connection";
import { HUB_WEEKS, HubPage } from "../pages/hub";
import { Layout } from "../pages/layout";
import { LoginPage } from "../pages/login";
import { STYLESHEET } from "../pages/styles";
import { ExercisePage } from "../pages/exercise";
import { WorkoutPage } from "../pages/workout";
import { feedQueryInZone, WorkoutsPage } from "../pages/workouts";
import { connectHevy } from "../services/connect";
import { disconnectHevy, findConnection, connectionView, requestSync, rotateWebhookSecret } from "../services/connections";
import { csvDownloadResponse, latestExport, openExport, requestExport } from "../services/exports";
import { getExerciseProgress } from "../services/metrics/exercise-progress";
import { getHub } from "../services/metrics/summary";
import { userForToken } from "../services/users";
import { listUnified } from "../services/unified";
import { getWorkoutDetail } from "../services/workouts";
import { unifiedListQuery } from "./unified";
import { workoutIdParam } from "./workouts";

type PageEnv = AppEnv & { Variables: AppEnv["Variables"] & { session: Session; nonce: string } };

const LOGIN_CSRF_COOKIE = "vt_login";
const HOME = "/hevy";
const CONNECTION = "/connections/hevy";
const FEED_PAGE = DEFAULT_LIMIT;
/** Hevy template ids: 8 hex characters for built-ins, a UUID for custom ones. */
const TEMPLATE_ID = /^[A-Za-z0-9-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const NOTICES: Record<string, string> = {
  connected: "Hevy is connected. Your history is being copied; this page updates as it goes.",
  synced: "A sync is on its way.",
  rotated: "The webhook address was replaced; the old one no longer works.",
  disconnected: "Hevy is disconnected and the key is deleted.",
  exporting: "Your CSV export is being written; a download link appears here when it is ready.",
};

/** Pages send a strict CSP: scripts only with this response's nonce, nothing framed. */
const securityHeaders: MiddlewareHandler<PageEnv> = async (c, next) => {
  const nonce = randomSecret(16);
  c.set("nonce", nonce);
  await next();
  c.header("content-security-policy", `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'`);
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "same-origin");
  c.header("cache-control", "no-store");
};

const sessionCookieOptions = { httpOnly: true, secure: true, sameSite: "Lax", path: "/" } as const;

/** The D1 bookmark of the session's last write (not a secret: where the data is, not who). */
const BOOKMARK_COOKIE = "vt_bookmark";

/** Pages behind a session; without one, GET and POST alike go to /login. */
const requireSession: MiddlewareHandler<PageEnv> = async (c, next) => {
  const opened = await openSession(c.var.deps, getCookie(c, SESSION_COOKIE));
  if (!opened) return c.redirect("/login", 302);
  c.set("session", opened.session);
  c.set("user", opened.user);
  // Logging out writes only the directory: it works during a move.
  const loggingOut = c.req.path === "/logout";
  if (!loggingOut) refuseWritesWhileMoving(c.req.method, opened.user);
  // The user's shard through a D1 session; the page session keeps the bookmark of the last write
  // (a cookie beside it), so the page after a form post shows what it did (SPEC §12).
  const session = userSession(c.var.deps, opened.user, c.req.method, getCookie(c, BOOKMARK_COOKIE));
  c.set("deps", session.deps);
  await next();
  const bookmark = session.bookmark();
  if (bookmark && c.req.method === "POST" && !loggingOut) setCookie(c, BOOKMARK_COOKIE, bookmark, { ...sessionCookieOptions, maxAge: SESSION_TTL_MS / 1000 });
};

/** Every form POST carries the session's CSRF token, and a cross-site Origin is refused. */
const requireCsrf: MiddlewareHandler<PageEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const origin = c.req.header("origin");
  if (origin && origin !== new URL(c.req.url).origin) throw forbidden();
  const form = await readForm(c);
  const token = typeof form._csrf === "string" ? form._csrf : "";
  if (!(await timingSafeEqualStrings(token, c.var.session.csrf))) throw forbidden();
  await next();
};

const forbidden = () => new AppError(403, "csrf_failed", "Form expired", "The form was stale or sent from another site. Reload the page and try again.");

/** The posted form; a body that cannot be read as one (e.g. a multipart body without its boundary) is a 400, not a 500. */
async function readForm(c: Context) {
  try {
    return await c.req.parseBody();
  } catch {
    throw new AppError(400, "invalid_form", "Unreadable form", "The form could not be read. Reload the page and try again.");
  }
}

async function renderConnection(c: Context<PageEnv>, status: 200 | 400 | 422 | 502 | 503, extra: { error?: string; notice?: string } = {}) {
  const user = c.var.user as AuthUser;
  const [row, latest] = await Promise.all([findConnection(c.var.deps.db, user.id), latestExport(c.var.deps, user.id)]);
  const view = row ? await connectionView(c.var.deps, row) : null;
  return c.html(
    <ConnectionPage email={user.email} csrf={c.var.session.csrf} nonce={c.var.nonce} view={view} latestExport={latest} timezone={user.timezone} now={c.var.deps.now()} {...extra} />,
    status,
  );
}

export const pageRoutes = new Hono<PageEnv>()
  .get("/assets/app.css", (c) => c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600" }))
  .use("/login", securityHeaders, limitBody(64 * 1024))
  .use("/logout", securityHeaders, limitBody(64 * 1024))
  .use("/connections/*", securityHeaders, limitBody(64 * 1024))
  .use("/hevy", securityHeaders, requireSession)
  .use("/workouts", securityHeaders, requireSession)
  .use("/workouts/hevy/:id", securityHeaders, requireSession)
  .use("/hevy/exercises/:template_id", securityHeaders, requireSession)
  .get("/", (c) => c.redirect(HOME, 302))
  .get("/login", async (c) => {
    const csrf = randomSecret(24);
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, secure: true, sameSite: "Strict", path: "/login", maxAge: 600 });
    return c.html(<LoginPage csrf={csrf} />);
  })
  .post("/login", async (c) => {
    const form = await readForm(c);
    const expected = getCookie(c, LOGIN_CSRF_COOKIE) ?? "";
    const sent = typeof form._csrf === "string" ? form._csrf : "";
    if (!expected || !(await timingSafeEqualStrings(sent, expected))) throw forbidden();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const user = token ? await userForToken(c.var.deps.directory.db, token) : null;
    if (!user) {
      const csrf = randomSecret(24);
      setCookie(c, LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, secure: true, sameSite: "Strict", path: "/login", maxAge: 600 });
      return c.html(<LoginPage csrf={csrf} error="That API token is unknown or revoked." />, 401);
    }
    const session = await startSession(c.var.deps, user.id, token);
    setCookie(c, SESSION_COOKIE, await sealSession(c.var.deps.keyring, session), { ...sessionCookieOptions, maxAge: SESSION_TTL_MS / 1000 });
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: "/login", secure: true });
    return c.redirect(HOME, 303);
  })
  .post("/logout", requireSession, requireCsrf, async (c) => {
    await endSession(c.var.deps, c.var.session);
    deleteCookie(c, SESSION_COOKIE, sessionCookieOptions);
    deleteCookie(c, BOOKMARK_COOKIE, sessionCookieOptions);
    return c.redirect("/login", 303);
  })
  .get("/hevy", async (c) => {
    const weeks = HUB_WEEKS.includes(Number(c.req.query("weeks"))) ? Number(c.req.query("weeks")) : 12;
    const user = c.var.user;
    const [{ summary, sessions }, connection] = await Promise.all([getHub(c.var.deps, user, weeks), findConnection(c.var.deps.db, user.id)]);
    return c.html(<HubPage email={user.email} csrf={c.var.session.csrf} timezone={user.timezone} summary={summary} sessions={sessions} weeks={weeks} connected={Boolean(connection)}
        backfilling={connection?.backfillState === "queued" || connection?.backfillState === "running"} />);
  })
  // SPEC §13: the unified feed as a page, with the API's own query rules on the user's local days
  // (feedQueryInZone); a bad query is a 400 page.
  .get("/workouts", async (c) => {
    const user = c.var.user;
    const parsed = unifiedListQuery.safeParse(feedQueryInZone(c.req.queries(), user.timezone));
    if (!parsed.success) throw validationFailed(parsed.error.issues);
    const q = parsed.data;
    const page = await listUnified(c.var.deps, user.id, { from: q.from, to: q.to, source: q.source, limit: FEED_PAGE, cursor: q.cursor });
    const query = { source: q.source, from: c.req.query("from"), to: c.req.query("to") };
    return c.html(
      <WorkoutsPage email={user.email} csrf={c.var.session.csrf} timezone={user.timezone} query={query} paged={Boolean(q.cursor)} rows={page.data} nextCursor={page.next_cursor} />,
    );
  })
  // One exercise's progress; a template the user never logged (or a malformed id) is the 404 page.
  .get("/hevy/exercises/:template_id", async (c) => {
    const id = c.req.param("template_id");
    if (!TEMPLATE_ID.test(id)) throw notFound("You have not logged this exercise.");
    const user = c.var.user;
    const progress = await getExerciseProgress(c.var.deps, user, id);
    return c.html(<ExercisePage email={user.email} csrf={c.var.session.csrf} timezone={user.timezone} progress={progress} />);
  })
  // One Hevy workout; a malformed id is as unknown as another user's (the 404 page).
  .get("/workouts/hevy/:id", async (c) => {
    const parsed = workoutIdParam.safeParse({ id: c.req.param("id") });
    if (!parsed.success) throw notFound("No Hevy workout with this id.");
    const user = c.var.user;
    const detail = await getWorkoutDetail(c.var.deps, user.id, parsed.data.id);
    return c.html(<WorkoutPage email={user.email} csrf={c.var.session.csrf} timezone={user.timezone} detail={detail} />);
  })
  .use("/connections/*", requireSession, requireCsrf)
  .get("/connections/hevy", async (c) => {
    const notice = NOTICES[c.req.query("notice") ?? ""];
    return renderConnection(c, 200, notice ? { notice } : {});
  })
  .get("/connections/hevy/status", async (c) => {
    const row = await findConnection(c.var.deps.db, c.var.user.id);
    if (!row) return c.json({ error: "not connected" }, 404);
    return c.json({ ...(await connectionView(c.var.deps, row)), latest_export: await latestExport(c.var.deps, c.var.user.id) });
  })
  .get("/connections/hevy/exports/:id/download", async (c) => {
    const { row, object } = await openExport(c.var.deps, c.var.deps.exportsBucket, c.var.user.id, c.req.param("id"));
    return csvDownloadResponse(row, object);
  })
  .post("/connections/hevy", async (c) => {
    const form = await readForm(c);
    const deps = c.var.deps;
    const userId = c.var.user.id;
    try {
      switch (form.action) {
        case "connect": {
          const key = typeof form.api_key === "string" ? form.api_key.trim() : "";
          if (!UUID.test(key)) return renderConnection(c, 400, { error: "That is not a Hevy API key: it looks like xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx." });
          await connectHevy(deps, userId, key);
          return c.redirect(`${CONNECTION}?notice=connected`, 303);
        }
        case "sync":
          await requestSync(deps, userId);
          return c.redirect(`${CONNECTION}?notice=synced`, 303);
        case "rotate":
          await rotateWebhookSecret(deps, userId);
          return c.redirect(`${CONNECTION}?notice=rotated`, 303);
        case "export":
          await requestExport(deps, userId, { from: null, to: null });
          return c.redirect(`${CONNECTION}?notice=exporting`, 303);
        case "disconnect":
          await disconnectHevy(deps, userId, form.purge === "true");
          return c.redirect(`${CONNECTION}?notice=disconnected`, 303);
        default:
          return renderConnection(c, 400, { error: "Unknown action." });
      }
    } catch (err) {
      // Hevy's pause (503 hevy_paused) is shown in the page like the other answers a user can act on.
      if (err instanceof AppError && [422, 502, 503, 409, 404].includes(err.status)) {
        const status = err.status === 422 || err.status === 502 || err.status === 503 ? err.status : 400;
        return renderConnection(c, status, { error: err.detail ?? err.title });
      }
      throw err;
    }
  });

/** A problem on a page answers with a page, not JSON. */
export function pageError(err: AppError) {
  return (
    <Layout title={err.title}>
      <p class="error">{err.detail}</p>
      <p>
        <a href="/connections/hevy">Back</a>
      </p>
    </Layout>
  );
}
