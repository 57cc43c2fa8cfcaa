import { raw } from "hono/html";

// GET /docs (SPEC §14): Swagger UI over the API's OpenAPI document. Swagger UI's script and
// stylesheet are static assets of this deployment (static/docs/assets/, copied from npm's
// swagger-ui-dist by scripts/docs-assets.ts); the start-up script and the page's own styles are
// served by the Worker, so the page runs under a CSP without inline scripts or a CDN.

const OPENAPI_URL = "/api/v1/openapi.json";
export const DOCS_ASSETS = "/docs/assets";
export const DOCS_SCRIPT_PATH = "/docs/swagger-init.js";
export const DOCS_STYLES_PATH = "/docs/docs.css";

/**
 * Starts Swagger UI on the document named by #swagger-ui's data-openapi-url. No query-string
 * config (another document, another origin), no online validator (it would call swagger.io), no
 * authorization kept past the tab, no deep links (they put a link inside each operation's toggle
 * button, a nested control screen readers stumble on).
 */
export const DOCS_SCRIPT = `"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: false,
    queryConfigEnabled: false,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false
  });
})();
`;

/** The page's header, Swagger UI's colours brought to AA contrast, and what keeps it inside a phone's width. */
export const DOCS_STYLESHEET = `
body { margin:0; background:#fff; color:#1d2330; font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
.docs-top { background:#1d2330; color:#fff; padding:.75rem 1rem; display:flex; gap:1rem; align-items:baseline; flex-wrap:wrap; }
.docs-top a { color:#fff; font-weight:700; text-decoration:none; } .docs-top a:hover { text-decoration:underline; }
.docs-top span { font-size:1.1rem; }
.docs-intro { max-width:1460px; margin:0 auto; padding:1rem 20px 0; }
.docs-intro code { background:#eef1f6; padding:.1rem .3rem; border-radius:4px; overflow-wrap:anywhere; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:2px solid #2f6fed; outline-offset:2px; }
/* Swagger UI's colours that fail AA contrast (axe-core): dark text on the method badges, as its own dark mode does. */
.swagger-ui .opblock .opblock-summary-method { color:#080a0b; text-shadow:none; }
.swagger-ui .info .title small { background:#434b4f; } .swagger-ui .info .title small.version-stamp { background:#1d632e; }
.swagger-ui .info .url, .swagger-ui .info a { color:#1f5fa8; }
.swagger-ui .btn.authorize { color:#137547; border-color:#137547; } .swagger-ui .btn.authorize svg { fill:#137547; color:#137547; }
.swagger-ui .json-schema-2020-12-expand-deep-button { color:#505050; }
.swagger-ui .parameter__in { color:#5c5c5c; }
.swagger-ui .btn.execute { background-color:#1f5fa8; border-color:#1f5fa8; } .swagger-ui .btn.cancel { color:#b3261e; border-color:#b3261e; }
@media (max-width: 640px) {
  .swagger-ui .wrapper, .docs-intro { padding-left:10px; padding-right:10px; }
  .swagger-ui .opblock .opblock-summary { flex-wrap:wrap; }
  .swagger-ui .opblock .opblock-summary-path, .swagger-ui .opblock .opblock-summary-description { word-break:break-all; max-width:100%; }
  .swagger-ui .opblock-body, .swagger-ui .responses-wrapper, .swagger-ui .parameters-container, .swagger-ui .model-box, .swagger-ui .highlight-code { overflow-x:auto; }
  .swagger-ui table { display:block; overflow-x:auto; }
}
`;

export function DocsPage() {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>API reference · VitalTrends</title>
          <link rel="icon" type="image/png" href={`${DOCS_ASSETS}/favicon-32x32.png`} />
          <link rel="stylesheet" href={`${DOCS_ASSETS}/swagger-ui.css`} />
          <link rel="stylesheet" href={DOCS_STYLES_PATH} />
        </head>
        <body>
          <header class="docs-top">
            <a href="/hevy">VitalTrends</a>
            {/* Not a heading: Swagger UI's title (the document's info.title) is the page's h1. */}
            <span>API reference</span>
          </header>
          <section class="docs-intro" aria-label="Using the API">
            <p>
              Calls to <code>/api/v1</code> take a user's API token, calls to <code>/admin/v1</code> the deployment's admin token, both as{" "}
              <code>Authorization: Bearer &lt;token&gt;</code> ("Authorize" below keeps it in this tab only). The OpenAPI 3.1 document:{" "}
              <a href={OPENAPI_URL}>{OPENAPI_URL}</a>.
            </p>
            <noscript>
              <p>This reference needs JavaScript; the document above is readable without it.</p>
            </noscript>
          </section>
          {/* Swagger UI renders its own <main> landmark in here. */}
          <div id="swagger-ui" data-openapi-url={OPENAPI_URL} />
          <script src={`${DOCS_ASSETS}/swagger-ui-bundle.js`} />
          <script src={DOCS_SCRIPT_PATH} />
        </body>
      </html>
    </>
  );
}
