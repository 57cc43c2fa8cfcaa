/// <reference lib="dom" />
// What the browser tests check on every page: axe-core inside the page, sideways
// overflow at phone width, the header nav, focus visibility; plus the set-up steps
// they share (log in through the form, connect Hevy and wait for the backfill).
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { api } from "../../scripts/local-worker.ts";

const require = createRequire(import.meta.url);
const AXE_SOURCE = (require("axe-core") as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string; summary: string }>;
}

/**
 * axe-core's violations on the page as it is now. Its script is inline, so the page's
 * context needs `bypassCSP: true` (the pages' CSP allows only their own nonce).
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    type Axe = { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> };
    const axe = (window as unknown as { axe: Axe }).axe;
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(" "), summary: (n.failureSummary ?? "").replace(/\s+/g, " ").slice(0, 300) })),
    }));
  });
}

/** Serious and critical violations only (SPEC §13), as the assertion compares them. */
export const seriousOnly = (violations: AxeViolation[]) => violations.filter((v) => v.impact === "serious" || v.impact === "critical");

/** One line per violation and target, for an assertion message a person can act on. */
export function describeViolations(where: string, violations: AxeViolation[]): string {
  if (violations.length === 0) return `${where}: no serious or critical axe violations`;
  const lines = violations.flatMap((v) => v.nodes.map((n) => `  [${v.impact}] ${v.id} (${v.help}) at ${n.target}: ${n.summary}`));
  return `${where}: axe-core found serious/critical violations:\n${lines.join("\n")}`;
}

/** Asserts (softly, so the other checks of the page still run) that axe finds nothing serious or critical. */
export async function expectAxeClean(page: Page, where: string): Promise<void> {
  const serious = seriousOnly(await axeViolations(page));
  expect.soft(serious.map((v) => `${v.id} @ ${v.nodes.map((n) => n.target).join(", ")}`), describeViolations(where, serious)).toEqual([]);
}

export interface Overflow {
  scrollWidth: number;
  clientWidth: number;
  /** Elements whose right edge passes the viewport and that are not inside a scrolling `.table-wrap`. */
  culprits: string[];
}

/** The document's sideways overflow, and what sticks out (outside `.table-wrap` containers, which may scroll). */
export function overflowOf(page: Page): Promise<Overflow> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const culprits: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      if (el.closest(".table-wrap")) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 0.5) {
        const id = el.id ? `#${el.id}` : "";
        const cls = el.getAttribute("class") ? `.${el.getAttribute("class")!.trim().split(/\s+/).join(".")}` : "";
        culprits.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(box.right)}px)`);
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: width, culprits: culprits.slice(0, 8) };
  });
}

/** No sideways scrolling of the document (wide tables scroll inside their `.table-wrap`). */
export async function expectNoSidewaysOverflow(page: Page, where: string): Promise<void> {
  const o = await overflowOf(page);
  expect.soft(o.scrollWidth, `${where}: the document is ${o.scrollWidth}px wide in a ${o.clientWidth}px viewport; sticking out: ${o.culprits.join("; ") || "?"}`).toBeLessThanOrEqual(o.clientWidth);
}

/** The header's links and button: each visible, inside the viewport and big enough to tap. */
export async function navBoxes(page: Page) {
  return page.locator("header.top a, header.top button").evaluateAll((els) =>
    els.map((el) => {
      const b = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return { text: (el.textContent ?? "").trim(), left: b.left, right: b.right, width: b.width, height: b.height, visible: style.visibility !== "hidden" && style.display !== "none" && b.width > 0 && b.height > 0 };
    }),
  );
}

/** The focused element: a short description, its href, and the focus indicator it shows. */
export function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.textContent ?? "").trim().slice(0, 60),
      id: el.id,
      href: el.getAttribute("href"),
      prLink: el.matches("#pr-table td[data-kind] a"),
      outlineStyle: style.outlineStyle,
      outlineWidth: style.outlineWidth,
      focusVisible: el.matches(":focus-visible"),
    };
  });
}

export type Focused = NonNullable<Awaited<ReturnType<typeof focused>>>;

/** A focus indicator a sighted keyboard user can see: an outline that is not `none` and not zero wide. */
export const focusIsVisible = (f: Focused) => f.outlineStyle !== "none" && f.outlineWidth !== "0px";

/** Logs in through the form (mouse), landing on the hub. */
export async function logIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill("#token", token);
  await page.click("main button[type=submit]");
  await page.waitForURL(`${base}/hevy`);
}

/** Connects `apiKey` through the API for the user of `token` and waits until the backfill is done. */
export async function connectAndBackfill(base: string, token: string, apiKey: string): Promise<void> {
  const put = await api<unknown>(base, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: apiKey } });
  if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
  // (expect.poll is for tests only; this runs in beforeAll.)
  const deadline = Date.now() + 90_000;
  for (let state = ""; state !== "done"; ) {
    if (Date.now() > deadline) throw new Error(`the backfill did not finish within 90 s (state ${state})`);
    await new Promise((r) => setTimeout(r, 250));
    state = (await api<{ backfill: { state: string } }>(base, "/api/v1/connections/hevy", { token })).body.backfill.state;
  }
}
