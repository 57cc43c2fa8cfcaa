import { describe, expect, it } from "vitest";
import type { ExportJobOptions } from "../src/services/export-job";
import type { HevySet, HevyWorkout } from "./fakes/hevy";
import { createUser, dbOf, expectProblem, useTestContext, type TestContext, type TestUser } from "./helpers";
import { drainQueue, fastBackfill, recordingRetryPolicy } from "./queue-helpers";

// The per-set CSV export end to end: POST, the queue consumer writes the file to
// R2, GET shows it, download streams it. Expected CSV content is worked out here
// from the fake Hevy's truth and read back with the independent parser below.

const HEADER =
  "workout_id,workout_title,start_time,end_time,duration_seconds,exercise_index,exercise_title,exercise_template_id,superset_id,exercise_notes,set_index,set_type,weight_kg,reps,distance_meters,duration_seconds_set,rpe,custom_metric,workout_updated_at";

// ---- An RFC 4180 parser written for the test, sharing nothing with src/ ----------------

interface Cell {
  value: string;
  quoted: boolean;
}

/**
 * Strict RFC 4180: records end with CRLF (the last one too), fields are split by
 * commas, a quoted field may hold commas, CR, LF and doubled quotes, an unquoted
 * one may hold none of `"` CR LF. Anything else throws.
 */
function parseCsv(text: string): Cell[][] {
  const records: Cell[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: Cell[] = [];
    for (;;) {
      let value = "";
      let quoted = false;
      if (text[i] === '"') {
        quoted = true;
        i++;
        for (;;) {
          if (i >= text.length) throw new Error("unterminated quoted field");
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          value += text[i++];
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
          if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
          value += text[i++];
        }
      }
      record.push({ value, quoted });
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "\r" && text[i + 1] === "\n") {
        i += 2;
        break;
      }
      throw new Error(`expected , or CRLF at ${i}, found ${JSON.stringify(text.slice(i, i + 10))}`);
    }
    records.push(record);
  }
  return records;
}

/** The export's cell convention: an unquoted empty cell is "no value" (null). */
const cellValue = (c: Cell): string | null => (c.value === "" && !c.quoted ? null : c.value);

// ---- What the export must contain, from the fake's truth ---------------------------------

/** A text cell as the export must show it: formula starters get a leading '. */
const shown = (text: string | null) => (text !== null && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
const isoOf = (instant: string) => {
  const ms = Date.parse(instant);
  const full = new Date(ms).toISOString();
  return ms % 1000 === 0 ? full.replace(".000Z", "Z") : full;
};
const num = (n: number | null) => (n === null ? null : n);

type Expected = Array<string | number | null>;

/** Expected rows, numeric columns as numbers (compared after parsing the cell). */
function expectedRows(workouts: HevyWorkout[]): Expected[] {
  const sorted = [...workouts].sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: Expected[] = [];
  for (const w of sorted) {
    const duration = Math.round((Date.parse(w.end_time) - Date.parse(w.start_time)) / 1000);
    for (const e of [...w.exercises].sort((a, b) => a.index - b.index)) {
      for (const s of [...e.sets].sort((a, b) => a.index - b.index)) {
        rows.push([
          w.id, shown(w.title), isoOf(w.start_time), isoOf(w.end_time), duration, e.index, shown(e.title),
          shown(e.exercise_template_id), num(e.supersets_id), shown(e.notes), s.index, shown(s.type),
          num(s.weight_kg), num(s.reps), num(s.distance_meters), num(s.duration_seconds), num(s.rpe), num(s.custom_metric),
          isoOf(w.updated_at),
        ]);
      }
    }
  }
  return rows;
}

const NUMERIC = new Set([4, 5, 8, 10, 12, 13, 14, 15, 16, 17]);

/** Parsed records to comparable rows; numeric cells must be plain decimals. */
function actualRows(records: Cell[][]): Expected[] {
  return records.map((record) =>
    record.map((cell, col) => {
      const v = cellValue(cell);
      if (!NUMERIC.has(col) || v === null) return v;
      expect(v, `column ${col}`).toMatch(/^-?\d+(\.\d+)?$/); // no exponent, no grouping, no locale
      return Number(v);
    }),
  );
}

// ---- Driving the API ---------------------------------------------------------------------

const EXPORTS = "/api/v1/exports";

async function backfilled(t: TestContext, setup: (apiKey: string) => void) {
  const user = await createUser(t);
  const account = t.hevy.createAccount();
  setup(account.apiKey);
  const res = await t.request("/api/v1/connections/hevy", { method: "PUT", token: user.token, json: { api_key: account.apiKey } });
  expect(res.status).toBe(202);
  await drainQueue(t, { backfill: fastBackfill() });
  return { user, apiKey: account.apiKey };
}

interface ExportView {
  id: string;
  status: string;
  row_count: number;
  size_bytes: number;
  created_at: string;
  completed_at: string | null;
  error: string | null;
}

async function exportNow(t: TestContext, user: TestUser, body?: unknown, job: Partial<ExportJobOptions> = {}) {
  const res = await t.request(`${EXPORTS}/hevy-csv`, { method: "POST", token: user.token, json: body });
  expect(res.status).toBe(202);
  const created = (await res.json()) as { id: string; status: string };
  expect(created).toEqual({ id: expect.any(String), status: "queued" });
  expect(res.headers.get("location")).toBe(`${EXPORTS}/${created.id}`);
  await drainQueue(t, { export: job });
  const view = (await (await t.request(`${EXPORTS}/${created.id}`, { token: user.token })).json()) as ExportView;
  return view;
}

async function downloadText(t: TestContext, user: TestUser, id: string) {
  const res = await t.request(`${EXPORTS}/${id}/download`, { token: user.token });
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, bytes, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes) };
}

function set(index: number, f: Partial<HevySet>): Partial<HevySet> {
  return { index, type: "normal", ...f };
}

describe("per-set CSV export", () => {
  const t = useTestContext();

  it("writes one RFC 4180 row per set: exact header, CRLF, no BOM, tricky text and numbers survive", async () => {
    const tricky = [
      'Push, "heavy" day', '=HYPERLINK("http://evil.example","x")', "+1 rep", "-5 kg", "@home", "\tTabbed", "\rCR first",
      "line one\nline two", "crlf\r\nend", "Ünïcödé 💪 日本語 مرحبا", " leading space", "'already ticked", '"', ",", "",
    ];
    const { user, apiKey } = await backfilled(t, (apiKey) => {
      tricky.forEach((title, i) =>
        t.hevy.putWorkout(apiKey, {
          title,
          start_time: `2026-03-${String(1 + i).padStart(2, "0")}T10:00:00+00:00`,
          end_time: `2026-03-${String(1 + i).padStart(2, "0")}T11:02:03.5+00:00`,
          exercises: [
            {
              index: 0, title: tricky[(i + 3) % tricky.length]!, notes: i % 3 === 0 ? null : tricky[(i + 7) % tricky.length]!,
              supersets_id: i % 2 === 0 ? null : 0,
              sets: [
                set(0, { type: "warmup", weight_kg: 1e-7, reps: 0 }),
                set(1, { weight_kg: 0.1 + 0.2, reps: 12, rpe: 9.5 }),
                set(2, { weight_kg: 123456789.12345679, distance_meters: 1.5e21, duration_seconds: 2.5e-12, custom_metric: -0.001 }),
              ],
            },
            { index: 1, title: "Plank", notes: "=1+2", supersets_id: 0, sets: [set(0, { duration_seconds: 60 })] },
          ],
        } as never),
      );
    });
    const view = await exportNow(t, user, {}, { pageSize: 3 }); // pages break inside workouts
    const workouts = t.hevy.listWorkouts(apiKey);
    const expected = expectedRows(workouts);
    expect(expected).toHaveLength(tricky.length * 4);
    expect(view).toMatchObject({ status: "done", row_count: expected.length, error: null });

    const { res, bytes, text } = await downloadText(t, user, view.id);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="hevy-sets-${view.created_at.slice(0, 10)}.csv"`);
    expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
    expect(view.size_bytes).toBe(bytes.byteLength);
    expect([...bytes.slice(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]); // no BOM
    expect(text.startsWith(`${HEADER}\r\n`)).toBe(true);

    const [header, ...records] = parseCsv(text);
    expect(header!.map((c) => c.value).join(",")).toBe(HEADER);
    expect(records.every((r) => r.length === 19)).toBe(true);
    expect(actualRows(records)).toEqual(expected);
    // Spot checks of the rules themselves, beyond the round trip.
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
    expect(text).toContain(',0.0000001,0,');
    expect(text).toContain(',123456789.12345679,,1500000000000000000000,0.0000000000025,,-0.001,');
    expect(text).toContain(',"\'\rCR first",');
    expect(text).toContain(',"",'); // an empty title is an empty string, not a missing value
  });

  it("exports every set of every live workout, ordered by start, workout id, exercise and set, paged through D1", async () => {
    const { user, apiKey } = await backfilled(t, (apiKey) => {
      t.hevy.generateHistory(apiKey, 30, { seed: 7 });
      // Two workouts starting at the same instant: the workout id breaks the tie.
      for (const title of ["Twin A", "Twin B"]) {
        t.hevy.putWorkout(apiKey, { title, start_time: "2025-06-01T08:00:00+00:00", end_time: "2025-06-01T09:00:00+00:00",
          exercises: [{ index: 0, sets: [set(0, { weight_kg: 50, reps: 5 }), set(1, { weight_kg: 55, reps: 5 })] }] } as never);
      }
    });
    // A deletion reaches D1 through a delta sync and leaves a tombstone there.
    const gone = t.hevy.listWorkouts(apiKey)[3]!;
    t.hevy.deleteWorkout(apiKey, gone.id);
    expect((await t.request("/api/v1/connections/hevy/sync", { method: "POST", token: user.token })).status).toBe(202);
    await drainQueue(t, { delta: { concurrency: 2, retry: recordingRetryPolicy() } });
    const tombstone = await (await dbOf(user.id)).prepare("SELECT deleted_at FROM hevy_workouts WHERE user_id = ? AND id = ?").bind(user.id, gone.id).first();
    expect(tombstone?.deleted_at).not.toBeNull();

    // A tombstone is enough to hide a workout, even one whose sets are still stored.
    const hidden = t.hevy.listWorkouts(apiKey)[5]!;
    await (await dbOf(user.id)).prepare("UPDATE hevy_workouts SET deleted_at = ? WHERE user_id = ? AND id = ?").bind(Date.now(), user.id, hidden.id).run();

    const workouts = t.hevy.listWorkouts(apiKey).filter((w) => w.id !== hidden.id);
    const setCount = workouts.reduce((n, w) => n + w.exercises.reduce((m, e) => m + e.sets.length, 0), 0);
    const view = await exportNow(t, user, undefined, { pageSize: 7 });
    expect(view).toMatchObject({ status: "done", row_count: setCount, error: null });
    expect(view.completed_at).not.toBeNull();

    const { text } = await downloadText(t, user, view.id);
    const records = parseCsv(text).slice(1);
    expect(records).toHaveLength(setCount);
    expect(actualRows(records)).toEqual(expectedRows(workouts));
    expect(records.some((r) => r[0]!.value === gone.id || r[0]!.value === hidden.id)).toBe(false);
  });

  it("filters on start_time: from inclusive, to exclusive", async () => {
    const { user, apiKey } = await backfilled(t, (apiKey) => t.hevy.generateHistory(apiKey, 12, { seed: 3 }));
    const workouts = t.hevy.listWorkouts(apiKey).sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time));
    const from = workouts[2]!.start_time; // included
    const to = workouts[8]!.start_time; // excluded
    const inRange = workouts.slice(2, 8);

    const view = await exportNow(t, user, { from: new Date(Date.parse(from)).toISOString(), to: new Date(Date.parse(to)).toISOString() });
    const records = parseCsv((await downloadText(t, user, view.id)).text).slice(1);
    expect(actualRows(records)).toEqual(expectedRows(inRange));
    expect(view.row_count).toBe(records.length);

    // Bare dates are UTC midnights.
    const day = isoOf(workouts[5]!.start_time).slice(0, 10);
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const ofDay = workouts.filter((w) => isoOf(w.start_time).startsWith(day));
    const dayView = await exportNow(t, user, { from: day, to: next });
    expect(actualRows(parseCsv((await downloadText(t, user, dayView.id)).text).slice(1))).toEqual(expectedRows(ofDay));
  });

  it("exports just the header when nothing is in range", async () => {
    const user = await createUser(t);
    const view = await exportNow(t, user);
    expect(view).toMatchObject({ status: "done", row_count: 0, size_bytes: HEADER.length + 2 });
    expect((await downloadText(t, user, view.id)).text).toBe(`${HEADER}\r\n`);
  });

  it("shows an export only to its owner", async () => {
    const owner = await createUser(t);
    const other = await createUser(t);
    const view = await exportNow(t, owner);
    await expectProblem(await t.request(`${EXPORTS}/${view.id}`, { token: other.token }), 404, "not_found");
    await expectProblem(await t.request(`${EXPORTS}/${view.id}/download`, { token: other.token }), 404, "not_found");
    await expectProblem(await t.request(`${EXPORTS}/${crypto.randomUUID()}`, { token: owner.token }), 404, "not_found");
    await expectProblem(await t.request(`${EXPORTS}/not-an-id/download`, { token: owner.token }), 404, "not_found");
    await expectProblem(await t.request(`${EXPORTS}/${view.id}`), 401, "unauthorized");
    await expectProblem(await t.request(`${EXPORTS}/${view.id}/download`), 401, "unauthorized");
    await expectProblem(await t.request(`${EXPORTS}/hevy-csv`, { method: "POST", json: {} }), 401, "unauthorized");
    expect((await t.request(`${EXPORTS}/${view.id}/download`, { token: owner.token })).status).toBe(200);
  });

  it("answers 409 to a download before the file is written", async () => {
    const user = await createUser(t);
    const res = await t.request(`${EXPORTS}/hevy-csv`, { method: "POST", token: user.token, json: {} });
    const { id } = (await res.json()) as { id: string };
    const view = (await (await t.request(`${EXPORTS}/${id}`, { token: user.token })).json()) as ExportView;
    expect(view).toEqual({ id, status: "queued", row_count: 0, size_bytes: 0, created_at: expect.any(String), completed_at: null, error: null });
    const problem = await expectProblem(await t.request(`${EXPORTS}/${id}/download`, { token: user.token }), 409, "export_not_ready");
    expect(problem.detail).toContain("queued");
    expect(t.queue.messages).toEqual([{ type: "export", userId: user.id, exportId: id }]);
  });

  it("validates the request", async () => {
    const user = await createUser(t);
    const post = (init: RequestInit & { json?: unknown }) => t.request(`${EXPORTS}/hevy-csv`, { method: "POST", token: user.token, ...init });
    let problem = await expectProblem(await post({ json: { from: "yesterday" } }), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toEqual(["from"]);
    problem = await expectProblem(await post({ json: { from: "2026-02-01", to: "2026-01-01" } }), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toEqual(["from"]);
    problem = await expectProblem(await post({ json: { format: "xlsx" } }), 400, "validation_failed");
    expect(problem.errors).toHaveLength(1);
    await expectProblem(await post({ body: "from=2026-01-01", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    await expectProblem(await post({ body: "{", headers: { "content-type": "application/json" } }), 400, "invalid_json");
    expect(t.queue.messages).toHaveLength(0);
    expect((await post({})).status).toBe(202); // no body: everything
    expect((await post({ json: { from: "2026-01-01T00:00:00+01:00" } })).status).toBe(202);
    const rows = await (await dbOf(user.id)).prepare("SELECT range_from, range_to FROM exports WHERE user_id = ? ORDER BY range_from").bind(user.id).all();
    expect(rows.results).toEqual([{ range_from: null, range_to: null }, { range_from: Date.parse("2025-12-31T23:00:00Z"), range_to: null }]);
  });
});
