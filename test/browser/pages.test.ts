import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, type Harness, screenshotPath, startHarness } from "./harness.ts";

// In CI Chromium must be there (.ci/run installs Debian's package); elsewhere the
// suite says it is skipped rather than failing on a missing browser.
const run = chromiumAvailable || process.env.CI ? describe : describe.skip;

run("pages in headless Chromium", () => {
  let h: Harness;
  let apiKey: string;

  beforeAll(async () => {
    h = await startHarness();
    const account = h.fake.createAccount({ name: "Browser Lifter" });
    apiKey = account.apiKey;
    h.fake.generateHistory(apiKey, 120, { seed: 3, weeks: 16 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("logs in, refuses a wrong key inline, connects and shows the backfill finish without a reload", async () => {
    const page = await h.page();
    await page.goto(`${h.worker.url}/connections/hevy`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", h.token);
    await page.click("button[type=submit]");
    await page.waitForURL("**/connections/hevy");

    await page.fill("#api_key", crypto.randomUUID());
    await page.click("text=Save and connect");
    await expect.poll(() => page.locator("[role=alert]").textContent()).toContain("Hevy did not accept this API key");

    await page.fill("#api_key", apiKey);
    await page.click("text=Save and connect");
    await page.waitForURL("**/connections/hevy?notice=connected");
    const navigations: string[] = [];
    page.on("framenavigated", (f) => navigations.push(f.url()));
    await expect.poll(() => page.locator("[data-state]").textContent(), { timeout: 60_000 }).toBe("done");
    expect(navigations).toEqual([]); // updated in place, no reload
    expect(await page.locator("[data-synced]").textContent()).toBe("120");
    await page.screenshot({ path: screenshotPath("connections-hevy"), fullPage: true });
  });
});
