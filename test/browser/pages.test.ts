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
    await page.waitForURL("**/hevy");
    await page.goto(`${h.worker.url}/connections/hevy`);

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

    // The hub shows the fake's numbers: the heaviest squat of the generated history, and 12 weekly bars.
    await page.click("text=Hevy hub");
    await page.waitForURL("**/hevy");
    expect(await page.locator("#volume-chart rect.bar").count()).toBe(12);
    const heaviest = new Map<string, number>();
    for (const w of h.fake.listWorkouts(apiKey))
      for (const e of w.exercises)
        for (const set of e.sets)
          if (set.type !== "warmup" && (set.weight_kg ?? 0) > 0) heaviest.set(e.exercise_template_id, Math.max(heaviest.get(e.exercise_template_id) ?? 0, set.weight_kg!));
    const [templateId, kg] = [...heaviest.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const cell = page.locator(`#pr-table tr[data-template="${templateId}"] td[data-kind="heaviest_weight"]`);
    expect(await cell.textContent()).toContain(`${kg.toLocaleString("en-US", { maximumFractionDigits: 2 })} kg`);
    await page.screenshot({ path: screenshotPath("hevy-hub"), fullPage: true });

    // Export from the Connections page, wait for the link, download the file.
    await page.goto(`${h.worker.url}/connections/hevy`);
    await page.click("text=Export CSV >> nth=-1");
    await page.waitForURL("**/connections/hevy?notice=exporting");
    const link = page.locator("[data-export-download]");
    await link.waitFor({ state: "visible", timeout: 60_000 });
    await page.screenshot({ path: screenshotPath("connections-hevy"), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^hevy-sets-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await (await download.createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString("utf8").split("\r\n").filter(Boolean);
    const sets = h.fake.listWorkouts(apiKey).reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
    expect(lines.length - 1).toBe(sets);
  });
});
