// Node-only HTTP wrapper around FakeHevy, for the demo and the benchmarks.
//   ./node_modules/.bin/node test/fakes/serve.ts --port 4010 --workouts 300 --latency 0 [--seed 1] [--host 127.0.0.1] [--api-key <uuid>] [--name "Alex"]
// prints one JSON line {"url","apiKey","userId","name","workouts"} and runs until SIGINT/SIGTERM.
//
// Control endpoints (JSON in/out; not logged in fake.requests):
//   POST   /__fake/accounts {name?, apiKey?, workouts?, seed?} → {apiKey, userId, name}
//   POST   /__fake/workouts {apiKey, workout?}                  → {workout, webhook: {status}|{error}|null}
//          creates a workout (a generated one ending now when `workout` is omitted) and, like Hevy,
//          POSTs the webhook delivery when the account is subscribed.
//   POST   /__fake/faults {kind?, status?, retryAfter?, body?, contentType?, times?, match?}  DELETE /__fake/faults
//   POST   /__fake/latency {ms}    GET|DELETE /__fake/requests    POST /__fake/revoke {apiKey}
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { FakeHevy, type FakeFault, type HevyWorkout } from "./hevy.ts";

export interface FakeHevyServer { url: string; close(): Promise<void> }

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8").trim();
  const v: unknown = raw ? JSON.parse(raw) : {};
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("body must be a JSON object");
  return v as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function control(fake: FakeHevy, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = `${req.method} ${path}`;
  try {
    if (route === "POST /__fake/accounts") {
      const b = await readJson(req);
      const acct = fake.createAccount({ name: b.name as string | undefined, apiKey: b.apiKey as string | undefined });
      const n = Number(b.workouts ?? 0);
      if (n > 0) fake.generateHistory(acct.apiKey, n, { seed: b.seed === undefined ? undefined : Number(b.seed) });
      return send(res, 201, acct);
    }
    if (route === "POST /__fake/workouts") {
      const b = await readJson(req);
      const apiKey = String(b.apiKey);
      let workout: HevyWorkout;
      if (b.workout) workout = fake.putWorkout(apiKey, b.workout as HevyWorkout);
      else {
        const [g] = fake.generateHistory(apiKey, 1, { weeks: 1 / 7 });
        if (!g) throw new Error("generation failed");
        workout = fake.putWorkout(apiKey, g); // re-put so updated_at/event time is now
      }
      const delivery = fake.webhookDelivery(apiKey, workout.id);
      let webhook: { status: number } | { error: string } | null = null;
      if (delivery) {
        try { webhook = { status: (await fetch(delivery, { signal: AbortSignal.timeout(5000) })).status }; } catch (e) { webhook = { error: String(e) }; }
      }
      return send(res, 201, { workout, webhook });
    }
    if (route === "POST /__fake/faults") { fake.injectFault((await readJson(req)) as FakeFault & { times?: number; match?: string }); return send(res, 200, { ok: true }); }
    if (route === "DELETE /__fake/faults") { fake.clearFaults(); return send(res, 200, { ok: true }); }
    if (route === "POST /__fake/latency") { fake.setLatency(Number((await readJson(req)).ms ?? 0)); return send(res, 200, { ok: true }); }
    if (route === "GET /__fake/requests") return send(res, 200, fake.requests);
    if (route === "DELETE /__fake/requests") { fake.requests.length = 0; return send(res, 200, { ok: true }); }
    if (route === "POST /__fake/revoke") { fake.revokeKey(String((await readJson(req)).apiKey)); return send(res, 200, { ok: true }); }
    return send(res, 404, { error: `unknown control endpoint ${route}` });
  } catch (e) {
    return send(res, 400, { error: e instanceof Error ? e.message : String(e) });
  }
}

async function proxy(fake: FakeHevy, req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
  const abort = new AbortController(); // client gone → abort (this is what ends a `timeout` fault)
  res.on("close", () => { if (!res.writableFinished) abort.abort(new Error("client disconnected")); });
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, signal: abort.signal };
  if (hasBody) { init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>; init.duplex = "half"; }
  let response: Response;
  try {
    response = await fake.fetch(new URL(req.url ?? "/", base), init);
  } catch {
    req.socket.destroy(); // `network` fault (or aborted timeout): the client sees a dropped connection
    return;
  }
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => { out[k] = v; });
  res.writeHead(response.status, out);
  if (response.body) for await (const chunk of response.body) res.write(chunk);
  res.end();
}

export async function startFakeHevyServer(opts: { fake: FakeHevy; port?: number; host?: string }): Promise<FakeHevyServer> {
  const { fake, host = "127.0.0.1" } = opts;
  let base = "";
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const done = path.startsWith("/__fake/") ? control(fake, req, res, path) : proxy(fake, req, res, base);
    done.catch((e: unknown) => { if (!res.headersSent) send(res, 500, { error: String(e) }); else res.destroy(); });
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(opts.port ?? 0, host, () => resolve()); });
  const { port } = server.address() as AddressInfo;
  base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: base,
    close: () => new Promise<void>((resolve, reject) => { server.close((e) => (e ? reject(e) : resolve())); server.closeAllConnections(); }),
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seed = arg("seed") === undefined ? undefined : Number(arg("seed"));
  const fake = new FakeHevy({ seed });
  fake.setLatency(Number(arg("latency") ?? 0));
  const account = fake.createAccount({ apiKey: arg("api-key"), name: arg("name") });
  const workouts = fake.generateHistory(account.apiKey, Number(arg("workouts") ?? 300), { seed }).length;
  const server = await startFakeHevyServer({ fake, port: Number(arg("port") ?? 4010), host: arg("host") ?? "127.0.0.1" });
  console.log(JSON.stringify({ url: server.url, ...account, workouts }));
  const stop = () => { server.close().then(() => process.exit(0), () => process.exit(1)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
