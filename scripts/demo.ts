// npm run demo: everything a person needs to try the product, with nothing but
// `npm install` done — a fake Hevy with a year of generated training, the Worker
// pointed at it, a demo user with Apple Health workouts and WHOOP/Oura scores,
// connected and backfilled. Prints where to log in; Ctrl-C stops it all.
//
// `npm run demo -- --webhooks` also registers a local consumer endpoint for outgoing webhooks
// (SPEC §15) before connecting, prints every event it receives (signature checked with the
// `standardwebhooks` package), and logs a new workout in the fake Hevy every minute — with
// Hevy's webhook to the Worker — so events keep coming.
import { FakeHevy, type HevyWorkout } from "../test/fakes/hevy.ts";
import { startFakeHevyServer } from "../test/fakes/serve.ts";
import { api, createUser, logAndDeliver, startWorker } from "./local-worker.ts";
import { type Receiver, startReceiver } from "./webhook-receiver.ts";

const WORKOUTS = 300;
const port = Number(process.env.PORT ?? 8787);

const fake = new FakeHevy({ seed: 2026 });
const account = fake.createAccount({ name: "Demo Lifter" });
// The history ends yesterday evening, so the latest session already has its next-morning readings.
const history = fake.generateHistory(account.apiKey, WORKOUTS, { seed: 2026, weeks: 52, end: new Date(Date.now() - 36 * 3_600_000) });
const hevy = await startFakeHevyServer({ fake });
console.log(`fake Hevy on ${hevy.url} with ${history.length} workouts`);
const webhooks = process.argv.includes("--webhooks");
const receiver: Receiver | null = webhooks ? await startReceiver() : null;
const worker = await startWorker(hevy.url, { port, vars: webhooks ? { ALLOW_INSECURE_WEBHOOK_URLS: "true" } : {} });
console.log(`Worker on ${worker.url}`);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping…");
  await worker.stop().catch(() => {});
  await hevy.close().catch(() => {});
  await receiver?.close().catch(() => {});
  process.exit(code);
}
process.once("SIGINT", () => void stop(0));
process.once("SIGTERM", () => void stop(0));

try {
  const token = await createUser(worker, "demo@vitaltrends.example");
  if (receiver) await listen(token, receiver);
  await seedOtherSources(token, history);
  const put = await api(worker.url, "/api/v1/connections/hevy", { method: "PUT", token, json: { api_key: account.apiKey } });
  if (put.status !== 202) throw new Error(`connect: ${put.status} ${JSON.stringify(put.body)}`);
  for (;;) {
    const view = (await api<{ backfill: { state: string; workouts_synced: number } }>(worker.url, "/api/v1/connections/hevy", { token })).body;
    if (view.backfill.state === "done") break;
    if (view.backfill.state === "failed") throw new Error("backfill failed");
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`
Backfill done: ${history.length} workouts.

  Log in:   ${worker.url}/login
  Token:    ${token}
  Hevy hub: ${worker.url}/hevy
  API:      curl -H "Authorization: Bearer ${token}" ${worker.url}/api/v1/hevy/summary

Ctrl-C stops the Worker and the fake Hevy.`);
  if (receiver) {
    console.log(`\nOutgoing webhooks go to ${receiver.url}; a workout is logged in Hevy every minute.`);
    setInterval(() => void logWorkout(), 60_000);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await stop(1);
}

/** Apple Health twins for a third of the Hevy sessions, some runs, and a year of recovery scores. */
async function seedOtherSources(token: string, workouts: HevyWorkout[]) {
  let n = 0;
  const rand = () => ((n = (n * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const apple = workouts
    .filter((_, i) => i % 3 === 0)
    .map((w, i) => {
      const start = Date.parse(w.start_time) + Math.round((rand() - 0.5) * 90_000);
      const end = Date.parse(w.end_time) + Math.round((rand() - 0.5) * 120_000);
      return {
        external_id: `ah-strength-${i}`, activity_type: "traditional_strength_training", start_time: new Date(start).toISOString(),
        end_time: new Date(end).toISOString(), title: "Strength Training", calories_kcal: Math.round(250 + rand() * 300),
        avg_hr_bpm: Math.round(105 + rand() * 25), max_hr_bpm: Math.round(150 + rand() * 30),
      };
    });
  const now = Date.now();
  const runs = Array.from({ length: 60 }, (_, i) => {
    const start = now - (i * 6 + 2) * 86_400_000 + 7 * 3_600_000;
    return {
      external_id: `ah-run-${i}`, activity_type: "running", start_time: new Date(start).toISOString(),
      end_time: new Date(start + (25 + rand() * 30) * 60_000).toISOString(), title: "Morning Run",
      calories_kcal: Math.round(250 + rand() * 250), avg_hr_bpm: Math.round(140 + rand() * 20), max_hr_bpm: Math.round(170 + rand() * 15),
    };
  });
  const all = [...apple, ...runs];
  for (let i = 0; i < all.length; i += 500) {
    const res = await api(worker.url, "/api/v1/sources/apple_health/workouts", { method: "PUT", token, json: { items: all.slice(i, i + 500) } });
    if (res.status !== 200) throw new Error(`apple health: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const days = Array.from({ length: 365 }, (_, i) => new Date(now - i * 86_400_000).toISOString().slice(0, 10));
  for (const [source, base] of [["whoop", 55], ["oura", 72]] as const) {
    const items = days.map((date) => ({ date, score: Math.max(1, Math.min(100, Math.round(base + (rand() - 0.5) * 40))) }));
    const res = await api(worker.url, `/api/v1/recovery/${source}`, { method: "PUT", token, json: { items: items.slice(0, 365) } });
    if (res.status !== 200) throw new Error(`${source}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  console.log(`seeded ${apple.length} Apple Health strength twins, ${runs.length} runs, 365 days of WHOOP and Oura`);
}

/** Registers the local receiver as the user's webhook endpoint and prints what it gets. */
async function listen(token: string, r: Receiver) {
  const res = await api<{ id: string; secret: string }>(worker.url, "/api/v1/webhook-endpoints", { method: "POST", token, json: { url: r.url, description: "npm run demo -- --webhooks" } });
  if (res.status !== 201) throw new Error(`webhook endpoint: ${res.status} ${JSON.stringify(res.body)}`);
  r.secret = res.body.secret;
  r.onDelivery = (d) => console.log(`← webhook ${d.type} ${d.id}${d.repeat ? " (retry)" : ""}, signature verified: ${JSON.stringify(d.data).slice(0, 120)}`);
  console.log(`webhook endpoint ${res.body.id} → ${r.url}`);
}

/** A new workout in the fake Hevy, and Hevy's webhook about it to the Worker. */
async function logWorkout() {
  const { id, failure } = await logAndDeliver(fake, account.apiKey).catch((err: unknown) => ({ id: "?", failure: String(err) }));
  console.log(failure ? `→ logging a workout in Hevy failed: ${failure}` : `→ logged workout ${id} in Hevy`);
}
