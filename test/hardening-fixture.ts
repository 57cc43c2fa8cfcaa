import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createUser, dataDbs, dbOf, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill } from "./queue-helpers";

// Shared by the bad-input and security suites: a user with data in every table
// they can own, a logged-in page session, and a digest of everything they own.

export interface Session {
  /** The Cookie header of a logged-in browser. */
  cookie: string;
  csrf: string;
}

export interface RealisticUser {
  user: TestUser;
  apiKey: string;
  hevyName: string;
  workoutIds: string[];
  /** An Apple Health strength workout paired with a Hevy workout, a run, a WHOOP workout. */
  externalIds: { appleStrength: string; appleRun: string; whoop: string };
  recoveryDates: string[];
  exportId: string;
  webhook: { url: string; secret: string; authToken: string };
}

const isoZ = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/**
 * A connected user with a backfilled Hevy history (with a custom template), other
 * sources' workouts (one paired with Hevy), WHOOP and Oura recovery, a finished
 * CSV export in R2, sync runs, and a subscribed webhook.
 */
export async function realisticUser(t: TestContext, opts: { workouts?: number; seed?: number; tag?: string } = {}): Promise<RealisticUser> {
  const tag = opts.tag ?? crypto.randomUUID().slice(0, 8);
  const user = await createUser(t, "Europe/Berlin");
  const account = t.hevy.createAccount();
  t.hevy.addCustomTemplate(account.apiKey, { title: "Sled Push", primary_muscle_group: "quadriceps" });
  t.hevy.generateHistory(account.apiKey, opts.workouts ?? 12, { seed: opts.seed ?? 7 });
  const connect = await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(connect.status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });

  const truth = t.hevy.listWorkouts(account.apiKey).sort((a, b) => Date.parse(b.start_time) - Date.parse(a.start_time));
  const paired = truth[0]!;
  const start = Date.parse(paired.start_time);
  const externalIds = { appleStrength: `ah-str-${tag}`, appleRun: `ah-run-${tag}`, whoop: `wh-${tag}` };
  const put = async (path: string, items: unknown[]) => {
    const res = await t.request(path, { method: "PUT", token: user.token, json: { items } });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  };
  await put("/api/v1/sources/apple_health/workouts", [
    { external_id: externalIds.appleStrength, activity_type: "traditional_strength_training", start_time: isoZ(start + 60_000),
      end_time: isoZ(Date.parse(paired.end_time) + 30_000), calories_kcal: 410, avg_hr_bpm: 118, max_hr_bpm: 161 },
    { external_id: externalIds.appleRun, activity_type: "running", title: "Evening run", start_time: isoZ(start - 86_400_000),
      end_time: isoZ(start - 86_400_000 + 1_800_000), calories_kcal: 300 },
  ]);
  await put("/api/v1/sources/whoop/workouts", [
    { external_id: externalIds.whoop, activity_type: "cycling", start_time: isoZ(start - 2 * 86_400_000), end_time: isoZ(start - 2 * 86_400_000 + 3_600_000), avg_hr_bpm: 140 },
  ]);
  const day = (offset: number) => new Date(start + offset * 86_400_000).toISOString().slice(0, 10);
  const recoveryDates = [day(-1), day(0), day(1)];
  await put("/api/v1/recovery/whoop", recoveryDates.map((date, i) => ({ date, score: 50 + i })));
  await put("/api/v1/recovery/oura", recoveryDates.slice(0, 2).map((date, i) => ({ date, score: 70 + i })));

  const exp = await t.request("/api/v1/exports/hevy-csv", { method: "POST", token: user.token, json: {} });
  expect(exp.status).toBe(202);
  const { id: exportId } = (await exp.json()) as { id: string };
  await drainQueue(t);
  const view = (await (await t.request(`/api/v1/exports/${exportId}`, { token: user.token })).json()) as { status: string };
  expect(view.status).toBe("done");

  const sub = t.hevy.webhookSubscription(account.apiKey);
  if (!sub) throw new Error("the fixture's webhook is not subscribed");
  return {
    user,
    apiKey: account.apiKey,
    hevyName: account.name,
    workoutIds: truth.map((w) => w.id),
    externalIds,
    recoveryDates,
    exportId,
    webhook: { url: sub.url, secret: sub.url.split("/").pop()!, authToken: sub.authToken },
  };
}

/** Logs in through the login form, then reads the session's CSRF token from the connection page. */
export async function logIn(t: TestContext, token: string): Promise<Session> {
  const form = await t.request("/login");
  const loginCookie = cookiePair(form, "vt_login");
  const loginCsrf = csrfField(await form.text());
  const res = await t.request("/login", {
    method: "POST",
    headers: { cookie: loginCookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: loginCsrf, token }).toString(),
  });
  expect(res.status).toBe(303);
  const cookie = cookiePair(res, "vt_session");
  const page = await t.request("/connections/hevy", { headers: { cookie } });
  expect(page.status).toBe(200);
  return { cookie, csrf: csrfField(await page.text()) };
}

/** Logs `user` in; then GETs a page with their session cookie: the answer and its HTML. */
export async function signedIn(t: TestContext, user: TestUser) {
  const { cookie } = await logIn(t, user.token);
  return async (path: string) => {
    const res = await t.request(path, { headers: { cookie } });
    return { res, html: await res.text() };
  };
}

/** A page's text: tags removed, the entities the pages use decoded, whitespace collapsed. */
export const pageText = (html: string) =>
  html.replace(/<[^>]+>/g, " ").replace(/&amp;/g, "&").replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/\s+/g, " ");

export function cookiePair(res: Response, name: string): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie set`);
  return line.split(";")[0]!;
}

export function csrfField(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF field on the page");
  return m[1]!;
}

// ---- What a user owns, as one digest -------------------------------------------------

interface Table {
  name: string;
  columns: string[];
  ownerColumn: "id" | "user_id" | "workout_key";
}

const INTERNAL_TABLE = /^(sqlite_|_cf_|d1_migrations$)/;

/**
 * Every table with a user_id column (plus users itself, and the rows owned through a workout's
 * key: hevy_exercises, hevy_sets), read from the database, not from a list.
 */
async function ownedTables(): Promise<Table[]> {
  const names = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all<{ name: string }>();
  const tables: Table[] = [];
  for (const { name } of names.results) {
    if (INTERNAL_TABLE.test(name)) continue;
    const cols = await env.DB.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid").bind(name).all<{ name: string }>();
    const columns = cols.results.map((c) => c.name);
    if (name === "users") tables.push({ name, columns, ownerColumn: "id" });
    else if (columns.includes("user_id")) tables.push({ name, columns, ownerColumn: "user_id" });
    else if (columns.includes("workout_key")) tables.push({ name, columns, ownerColumn: "workout_key" });
  }
  return tables;
}

const sortKeys = (row: Record<string, unknown>) => Object.fromEntries(Object.keys(row).sort().map((k) => [k, row[k]]));

export interface UserState {
  /** SHA-256 hex over the canonical JSON of every row and R2 object the user owns. */
  digest: string;
  /** Rows per table (and R2 objects), so a test can see the digest covers real data. */
  counts: Record<string, number>;
}

/**
 * Every row the user owns in every table — hevy_exercise_templates also with the
 * shared built-ins (user_id '') — in a canonical order (all columns), plus the
 * key, size and etag of their R2 objects, as one SHA-256 digest.
 */
export async function userState(userId: string): Promise<UserState> {
  const dump: Record<string, unknown[]> = {};
  const counts: Record<string, number> = {};
  // The directory's rows of the user and their shard's (SPEC §12), table by table.
  const dbs = [...new Set([env.DB, await dbOf(userId)])];
  for (const table of await ownedTables()) {
    const shared = table.name === "hevy_exercise_templates" ? " OR user_id = ''" : "";
    const order = table.columns.map((_, i) => i + 1).join(", ");
    const owner = table.ownerColumn === "workout_key" ? "workout_key IN (SELECT key FROM hevy_workouts WHERE user_id = ?)" : `${table.ownerColumn} = ?`;
    const rows: Array<Record<string, unknown>> = [];
    for (const db of dbs) {
      rows.push(...(await db.prepare(`SELECT * FROM "${table.name}" WHERE ${owner}${shared} ORDER BY ${order}`).bind(userId).all<Record<string, unknown>>()).results);
    }
    dump[table.name] = rows.map(sortKeys);
    counts[table.name] = rows.length;
  }
  const objects = await env.EXPORTS.list({ prefix: `exports/${userId}/` });
  dump.r2 = objects.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag }));
  counts.r2 = objects.objects.length;
  const bytes = new TextEncoder().encode(JSON.stringify(dump));
  const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { digest, counts };
}

/** Row counts of every application table, all users together. */
export async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await ownedTables()) {
    let n = 0;
    for (const db of dataDbs()) n += (await db.prepare(`SELECT count(*) AS n FROM "${table.name}"`).first<{ n: number }>())?.n ?? 0;
    counts[table.name] = n;
  }
  return counts;
}
