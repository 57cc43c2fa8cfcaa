import { describe, expect, it } from "vitest";
import { DOCS_ASSETS } from "../src/pages/docs";
import { useTestContext } from "./helpers";

// SPEC §14: GET /docs, the API reference rendered from GET /api/v1/openapi.json by Swagger UI,
// with everything it loads from this deployment. The pool's fetch handler does not serve static
// assets (/docs/assets/*), so the browser test (test/browser/journey.test.ts) loads the page for
// real; here: the HTML, its headers, and the Worker-served parts.

interface Markup {
  /** src/href of every element that loads something. */
  loads: Array<{ tag: string; url: string }>;
  inlineScripts: number;
  styleElements: number;
  styleAttributes: number;
  eventHandlers: string[];
  openapiUrl: string | null;
}

/** What the page loads and runs, read with the runtime's own HTML parser. */
async function markupOf(res: Response): Promise<Markup> {
  const m: Markup = { loads: [], inlineScripts: 0, styleElements: 0, styleAttributes: 0, eventHandlers: [], openapiUrl: null };
  await new HTMLRewriter()
    .on("script", { element: (el) => { const src = el.getAttribute("src"); if (src === null) m.inlineScripts++; else m.loads.push({ tag: "script", url: src }); } })
    .on("link[href]", { element: (el) => { m.loads.push({ tag: `link rel=${el.getAttribute("rel")}`, url: el.getAttribute("href")! }); } })
    .on("img[src], iframe, object, embed, base", { element: (el) => { m.loads.push({ tag: el.tagName, url: el.getAttribute("src") ?? el.getAttribute("href") ?? "" }); } })
    .on("style", { element: () => { m.styleElements++; } })
    .on("[style]", { element: () => { m.styleAttributes++; } })
    .on("*", { element: (el) => { for (const [name] of el.attributes) if (name && /^on/i.test(name)) m.eventHandlers.push(`${el.tagName} ${name}`); } })
    .on("#swagger-ui", { element: (el) => { m.openapiUrl = el.getAttribute("data-openapi-url"); } })
    .transform(res)
    .arrayBuffer();
  return m;
}

/** A same-origin path: starts with one slash (not `//host`), no scheme. */
const sameOrigin = (url: string) => /^\/(?!\/)/.test(url);

describe("GET /docs", () => {
  const t = useTestContext();

  it("answers an HTML page without a token or session, under a CSP that allows scripts and styles from this origin only", async () => {
    const res = await t.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = Object.fromEntries(
      res.headers.get("content-security-policy")!.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values.join(" ")]),
    );
    expect(csp).toEqual({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self' data:",
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
      "form-action": "'self'",
      "base-uri": "'none'",
    });
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<title>API reference · VitalTrends</title>");
    expect(html).toContain('name="viewport" content="width=device-width, initial-scale=1"');
  });

  it("loads Swagger UI and everything else from this origin, with no inline script or style, no URL of another host anywhere", async () => {
    const res = await t.request("/docs");
    const html = await res.clone().text();
    const m = await markupOf(res);
    expect(m.loads.map((l) => `${l.tag} ${l.url}`).sort()).toEqual(
      [
        `link rel=icon ${DOCS_ASSETS}/favicon-32x32.png`,
        `link rel=stylesheet ${DOCS_ASSETS}/swagger-ui.css`,
        "link rel=stylesheet /docs/docs.css",
        `script ${DOCS_ASSETS}/swagger-ui-bundle.js`,
        "script /docs/swagger-init.js",
      ].sort(),
    );
    expect(m.loads.every((l) => sameOrigin(l.url))).toBe(true);
    expect({ inline: m.inlineScripts, styleElements: m.styleElements, styleAttributes: m.styleAttributes, handlers: m.eventHandlers }).toEqual({
      inline: 0, styleElements: 0, styleAttributes: 0, handlers: [],
    });
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]/i);
    expect(html).not.toMatch(/unpkg|jsdelivr|cdnjs|cloudflare\.com/i);
  });

  it("points Swagger UI at /api/v1/openapi.json, which answers the OpenAPI document without a token", async () => {
    const m = await markupOf(await t.request("/docs"));
    expect(m.openapiUrl).toBe("/api/v1/openapi.json");
    const doc = await t.request(m.openapiUrl!);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("serves its start-up script and stylesheet from the Worker; Swagger UI's files are left to the static assets", async () => {
    const script = await t.request("/docs/swagger-init.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const code = await script.text();
    // The document named by the page, no query-string config, no online validator (swagger.io).
    expect(code).toContain('getAttribute("data-openapi-url")');
    expect(code).toContain("queryConfigEnabled: false");
    expect(code).toContain("validatorUrl: null");
    expect(code).not.toMatch(/https?:\/\//);

    const css = await t.request("/docs/docs.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const styles = await css.text();
    expect(styles).toContain("@media (max-width: 640px)");
    expect(styles).not.toMatch(/url\(|@import/);

    // wrangler.toml sends /docs/assets/* to the static assets before the Worker; the Worker itself has no such route.
    expect((await t.request(`${DOCS_ASSETS}/swagger-ui-bundle.js`)).status).toBe(404);
  });

  it("leaves the pages' own routes alone: / still redirects, /login still has its nonce CSP", async () => {
    expect((await t.request("/")).headers.get("location")).toBe("/hevy");
    const login = await t.request("/login");
    expect(login.status).toBe(200);
    expect(login.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
  });
});
