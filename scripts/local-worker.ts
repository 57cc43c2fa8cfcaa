// The Worker under `wrangler dev` on loopback, from a snapshot of the project with its
// own state directory, and a small API client: shared by the benchmarks, the demo and
// the browser tests.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { d1Bindings } from "./d1-bindings.ts";
import type { FakeHevy } from "../test/fakes/hevy.ts";
import { writeDocsAssets } from "./docs-assets.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface WorkerUnderTest {
  url: string;
  adminToken: string;
  stateDir: string;
  /** SQL against the Worker's local D1 (wrangler d1 execute --local). */
  sql<T = Record<string, unknown>>(query: string): T[];
  stop(): Promise<void>;
}

const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };

/**
 * Starts `wrangler dev` pointed at `hevyUrl`, from a snapshot of the project in a
 * temporary directory (wrangler dev reloads on file changes, and a reload drops
 * in-flight queue messages), with a fresh state directory and migrations applied.
 */
export async function startWorker(
  hevyUrl: string,
  options: { port?: number; shards?: number; vars?: Record<string, string> } = {},
): Promise<WorkerUnderTest> {
  const stateDir = mkdtempSync(join(tmpdir(), "vt-bench-"));
  const app = join(stateDir, "app");
  for (const entry of ["src", "migrations", "wrangler.toml", "package.json", "tsconfig.json"]) {
    cpSync(join(ROOT, entry), join(app, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"));
  // wrangler.toml's [assets] directory (Swagger UI for /docs), generated as postinstall does.
  writeDocsAssets(app);
  // The rate limits of wrangler.toml (600 requests a minute per API token, 30 webhook deliveries a
  // minute per connection) would throttle a benchmark's thousands of requests with one token: this
  // Worker counts but never refuses. The limits themselves are proven by test/rate-limits.test.ts.
  const limited = readFileSync(join(app, "wrangler.toml"), "utf8");
  const limits = limited.match(/^simple = \{ limit = \d+/gm) ?? [];
  if (limits.length !== (limited.match(/^\[\[ratelimits\]\]/gm) ?? []).length) throw new Error("wrangler.toml: a [[ratelimits]] entry without `simple = { limit = N, ... }` on one line");
  writeFileSync(join(app, "wrangler.toml"), limited.replace(/^simple = \{ limit = \d+/gm, () => "simple = { limit = 1000000000"));
  // `shards`: keep only SHARD_0 … SHARD_{shards-1} of wrangler.toml (a benchmark compares layouts).
  if (options.shards !== undefined) {
    const toml = readFileSync(join(app, "wrangler.toml"), "utf8");
    const kept = toml.replace(/\[\[d1_databases\]\]\s*\nbinding = "SHARD_(\d+)"[\s\S]*?(?=\n\[|$)/g, (block, n: string) => (Number(n) < options.shards! ? block : ""));
    writeFileSync(join(app, "wrangler.toml"), kept);
  }
  const state = join(stateDir, "state");
  for (const binding of d1Bindings(app)) {
    const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", binding, "--local", "--persist-to", state], {
      cwd: app, env: wranglerEnv, encoding: "utf8",
    });
    if (migrate.status !== 0) throw new Error(`migrations of ${binding} failed:\n${migrate.stdout}\n${migrate.stderr}`);
  }
  const port = options.port ?? (await freePort());
  const adminToken = randomBytes(24).toString("base64url");
  const url = `http://127.0.0.1:${port}`;
  // The secrets wrangler.toml requires, where `wrangler dev` looks for them (as `npm run dev` does).
  writeFileSync(join(app, ".dev.vars"), `KEY_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}\nADMIN_TOKEN=${adminToken}\n`, { mode: 0o600 });
  const child: ChildProcess = spawn(
    "wrangler",
    [
      "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--inspector-port", String(await freePort()),
      "--var", `HEVY_API_BASE_URL:${hevyUrl}`, "--var", `PUBLIC_BASE_URL:${url}`,
      // `vars`: e.g. ALLOW_INSECURE_WEBHOOK_URLS=true for an outgoing-webhook receiver on loopback.
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    { cwd: app, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  // BENCH_WORKER_LOG=<file>: keep the Worker's output for a look afterwards.
  const logFile = process.env.BENCH_WORKER_LOG;
  const keep = (d: Buffer) => {
    if (log.length < 1_000_000) log += d.toString();
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const deadline = Date.now() + 60_000;
  while (!/Ready on/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    adminToken,
    stateDir,
    sql<T>(query: string): T[] {
      const out = spawnSync("wrangler", ["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", query], {
        cwd: app, env: wranglerEnv, encoding: "utf8",
      });
      if (out.status !== 0) throw new Error(`d1 execute failed: ${out.stderr}`);
      return (JSON.parse(out.stdout) as Array<{ results: T[] }>)[0]!.results;
    },
    async stop() {
      child.kill("SIGINT");
      await new Promise((r) => { child.once("exit", r); setTimeout(r, 5_000); });
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export async function api<T>(base: string, path: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function createUser(w: WorkerUnderTest, email: string): Promise<string> {
  const res = await api<{ api_token: string }>(w.url, "/admin/v1/users", { method: "POST", token: w.adminToken, json: { email } });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.api_token;
}

/**
 * A workout logged now in the fake Hevy account, and Hevy's own webhook delivery of it (the URL
 * and Authorization it was given): its id, and null when the Worker queued it, else what went wrong.
 */
export async function logAndDeliver(fake: FakeHevy, apiKey: string): Promise<{ id: string; failure: string | null }> {
  const [generated] = fake.generateHistory(apiKey, 1, { weeks: 1 / 7 });
  const workout = fake.putWorkout(apiKey, generated!);
  const delivery = fake.webhookDelivery(apiKey, workout.id)!;
  if (new URL(delivery.url).hostname !== "127.0.0.1") throw new Error(`webhook URL is not loopback: ${delivery.url}`);
  const res = await fetch(delivery);
  const text = await res.text();
  return { id: workout.id, failure: res.status === 200 && JSON.parse(text).status === "queued" ? null : `${res.status} ${text.slice(0, 200)}` };
}
