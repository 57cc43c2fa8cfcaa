// Node side of the browser tests: the fake Hevy over HTTP, the Worker under
// `wrangler dev`, and Debian's headless Chromium driven by playwright-core.
import { existsSync } from "node:fs";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { api, createUser, startWorker, type WorkerUnderTest } from "../../scripts/local-worker.ts";
import { FakeHevy } from "../fakes/hevy.ts";
import { type FakeHevyServer, startFakeHevyServer } from "../fakes/serve.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Screenshots go to test-results/ on every run, and into docs/ with `npm run screenshots`. */
export const screenshotPath = (name: string) => `${process.env.SCREENSHOTS === "docs" ? "docs" : "test-results"}/${name}.png`;
export const chromiumAvailable = existsSync(CHROMIUM);

/** The two widths every page is checked and photographed at. */
export const DESKTOP = { width: 1100, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface Harness {
  fake: FakeHevy;
  hevy: FakeHevyServer;
  worker: WorkerUnderTest;
  browser: Browser;
  token: string;
  /** A page in a fresh context: desktop 1100×900 unless `options` say otherwise (viewport, storageState, bypassCSP…). */
  page(options?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const fake = new FakeHevy({ seed: 7 });
  const hevy = await startFakeHevyServer({ fake });
  const worker = await startWorker(hevy.url);
  const token = await createUser(worker, "browser@vitaltrends.example");
  // The flags Debian's Chromium needs in a closed sandbox (no background network, no GPU).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    fake,
    hevy,
    worker,
    browser,
    token,
    page: async (options = {}) => {
      const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, ...options });
      return context.newPage();
    },
    close: async () => {
      await browser.close().catch(() => {});
      await worker.stop().catch(() => {});
      await hevy.close().catch(() => {});
    },
  };
}

export { api };
