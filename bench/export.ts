// Export benchmark: POST /api/v1/exports/hevy-csv for a user with a large history
// under `wrangler dev`, the job run by the local queue consumer, then the download.
//
// The history is seeded the way users get one: a backfill from the fake Hevy
// served over local HTTP without latency (about a minute for 10,000 workouts).
// Writing SQL into local D1 with `wrangler d1 execute` while `wrangler dev` holds
// the same database proved unreliable (SQLITE_BUSY, or the dev server dying).
//
// Memory, two ways:
// - the job's own high-water mark of what it holds (one part buffer plus the
//   largest encoded page), from its "export done" log line;
// - the workerd process's resident set, from the OS: VmHWM (the kernel's peak
//   RSS) after resetting it right before the POST (/proc/<pid>/clear_refs), and
//   VmRSS sampled every 20 ms as a cross-check. It includes everything workerd
//   runs locally (the D1 and R2 simulators too), so it is an upper bound of the
//   Worker's memory, not a measure of it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeHevy } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, createUser, round, startWorker } from "./lib.ts";

export interface ExportBenchResult {
  workouts: number;
  rows: number;
  bytes: number;
  parts: number;
  d1Pages: number;
  d1RoundTrips: number;
  /** POST to status "done", polled every 25 ms. */
  exportSeconds: number;
  /** The job's own time, from its log line. */
  jobSeconds: number;
  rowsPerSecond: number;
  downloadSeconds: number;
  memory: {
    /** The job's high-water mark: part buffer + largest encoded page. */
    jobPeakBufferedMiB: number;
    workerdRssBeforeMiB: number | null;
    /** Kernel peak RSS of workerd during the export (VmHWM after clear_refs). */
    workerdPeakRssMiB: number | null;
    /** Largest VmRSS seen by 20 ms sampling. */
    workerdSampledPeakRssMiB: number | null;
  };
  seedSeconds: number;
}

const MIB = 1024 * 1024;

/**
 * The workerd process that runs this Worker's code (and, locally, its D1 and R2):
 * a descendant of the `wrangler dev --persist-to <stateDir>/…` process, the one
 * with an inspector (wrangler's proxy runs in a second workerd without one).
 */
function workerdPid(stateDir: string): number | null {
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      return "";
    }
  };
  const parent = (pid: number) => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    } catch {
      return 0;
    }
  };
  const ours: Array<{ pid: number; inspector: boolean }> = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    const cmd = Number.isInteger(pid) ? cmdline(pid) : "";
    if (!/\/workerd$/.test(cmd.split(" ")[0] ?? "")) continue;
    for (let p = parent(pid); p > 1; p = parent(p)) {
      if (cmdline(p).includes(stateDir)) {
        ours.push({ pid, inspector: cmd.includes("--inspector-addr") });
        break;
      }
    }
  }
  return (ours.find((p) => p.inspector) ?? ours[0])?.pid ?? null;
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

interface Connection {
  backfill: { state: string };
  last_error: string | null;
}

interface ExportView {
  id: string;
  status: string;
  row_count: number;
  size_bytes: number;
  error: string | null;
}

export async function benchExport(workouts: number): Promise<ExportBenchResult> {
  // The job's figures come from its log line; keep the Worker's output where we can read it.
  const logDir = mkdtempSync(join(tmpdir(), "vt-bench-export-"));
  const previousLog = process.env.BENCH_WORKER_LOG;
  const logFile = previousLog ?? join(logDir, "worker.log");
  process.env.BENCH_WORKER_LOG = logFile;
  const fake = new FakeHevy({ seed: 42 });
  const account = fake.createAccount({ name: "Bench" });
  fake.generateHistory(account.apiKey, workouts, { seed: 42 });
  const sets = fake.listWorkouts(account.apiKey).reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
  const server = await startFakeHevyServer({ fake });
  const worker = await startWorker(server.url).finally(() => {
    if (previousLog === undefined) delete process.env.BENCH_WORKER_LOG;
  });
  try {
    const token = await createUser(worker, `bench-export-${workouts}@example.com`);
    const seedStart = performance.now();
    const put = await api<Connection>(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
    if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
    for (let view = put.body; view.backfill.state !== "done"; ) {
      if (view.backfill.state === "failed") throw new Error(`backfill failed: ${view.last_error}`);
      if (performance.now() - seedStart > 15 * 60_000) throw new Error("backfill did not finish in 15 minutes");
      await new Promise((r) => setTimeout(r, 250));
      view = (await api<Connection>(worker.url, "/api/v1/connections/hevy", { token })).body;
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const pid = workerdPid(worker.stateDir);
    const rssBefore = pid ? statusKb(pid, "VmRSS") : null;
    const peakReset = pid ? resetPeakRss(pid) : false;
    let sampledPeak = rssBefore ?? 0;
    const sampler = setInterval(() => {
      const rss = pid ? statusKb(pid, "VmRSS") : null;
      if (rss !== null) sampledPeak = Math.max(sampledPeak, rss);
    }, 20);

    const start = performance.now();
    const created = await api<{ id: string }>(worker.url, "/api/v1/exports/hevy-csv", { method: "POST", token, json: {} });
    if (created.status !== 202) throw new Error(`export: ${created.status} ${JSON.stringify(created.body)}`);
    let view: ExportView;
    for (;;) {
      view = (await api<ExportView>(worker.url, `/api/v1/exports/${created.body.id}`, { token })).body;
      if (view.status === "done") break;
      if (view.status === "failed") throw new Error(`export failed: ${view.error}`);
      if (performance.now() - start > 15 * 60_000) throw new Error("export did not finish in 15 minutes");
      await new Promise((r) => setTimeout(r, 25));
    }
    const exportSeconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const peakRss = pid && peakReset ? statusKb(pid, "VmHWM") : null;
    if (view.row_count !== sets) throw new Error(`exported ${view.row_count} rows of ${sets} sets`);

    const downloadStart = performance.now();
    const res = await fetch(`${worker.url}/api/v1/exports/${view.id}/download`, { headers: { authorization: `Bearer ${token}` } });
    const body = new Uint8Array(await res.arrayBuffer());
    const downloadSeconds = (performance.now() - downloadStart) / 1000;
    if (res.status !== 200 || body.byteLength !== view.size_bytes) throw new Error(`download: ${res.status}, ${body.byteLength} of ${view.size_bytes} bytes`);
    let lines = 0;
    for (const b of body) if (b === 0x0a) lines++;
    if (lines !== view.row_count + 1) throw new Error(`download has ${lines} lines for ${view.row_count} rows`);

    const stats = readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes('"export done"') && l.includes(view.id))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { parts: number; pages: number; d1RoundTrips: number; peakBufferedBytes: number; ms: number })
      .at(-1);
    if (!stats) throw new Error("the job's log line was not found");
    const mib = (kb: number | null) => (kb === null ? null : round(kb / 1024, 1));
    return {
      workouts,
      rows: view.row_count,
      bytes: view.size_bytes,
      parts: stats.parts,
      d1Pages: stats.pages,
      d1RoundTrips: stats.d1RoundTrips,
      exportSeconds: round(exportSeconds),
      jobSeconds: round(stats.ms / 1000),
      rowsPerSecond: Math.round(view.row_count / (stats.ms / 1000)),
      downloadSeconds: round(downloadSeconds),
      memory: {
        jobPeakBufferedMiB: round(stats.peakBufferedBytes / MIB),
        workerdRssBeforeMiB: mib(rssBefore),
        workerdPeakRssMiB: mib(peakRss),
        workerdSampledPeakRssMiB: pid ? mib(sampledPeak) : null,
      },
      seedSeconds: round(seedSeconds),
    };
  } finally {
    await worker.stop();
    await server.close();
    rmSync(logDir, { recursive: true, force: true });
  }
}
