import { Hono } from "hono";
import type { AppEnv } from "../env";
import { DOCS_SCRIPT, DOCS_SCRIPT_PATH, DOCS_STYLES_PATH, DOCS_STYLESHEET, DocsPage } from "../pages/docs";

/**
 * The API reference page's CSP: scripts and styles from this origin only (Swagger UI's bundle, its
 * start-up script), no inline code; images from here or data: URIs (swagger-ui.css draws its icons
 * with them); fetches (the document, "Try it out") to this origin only.
 */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const headers = { "x-content-type-options": "nosniff", "referrer-policy": "same-origin" };
const CACHED = "public, max-age=3600";

/** GET /docs (SPEC §14): open to anyone, as the document it renders is. */
export const docsRoutes = new Hono<AppEnv>()
  .get("/docs", (c) => c.html(<DocsPage />, 200, { ...headers, "content-security-policy": DOCS_CSP, "cache-control": "no-cache" }))
  .get(DOCS_SCRIPT_PATH, (c) => c.body(DOCS_SCRIPT, 200, { ...headers, "content-type": "text/javascript; charset=utf-8", "cache-control": CACHED }))
  .get(DOCS_STYLES_PATH, (c) => c.body(DOCS_STYLESHEET, 200, { ...headers, "content-type": "text/css; charset=utf-8", "cache-control": CACHED }));
