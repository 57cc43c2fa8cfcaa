import type { ExerciseProgress } from "../services/metrics/exercise-progress";
import type { PrKind } from "../services/metrics/prs";
import { BarChart } from "./charts";
import { formatDate, formatKg, formatNumber } from "./format";

/** A record as the hub's PR table writes it (one decimal), so the two pages agree. */
const recordKg = (kg: number) => `${formatNumber(kg)} kg`;
import { Layout } from "./layout";

const KIND_NAMES: Record<PrKind, string> = { heaviest_weight: "Heaviest", best_e1rm: "Best e1RM", most_reps: "Most reps", best_set_volume: "Best set volume" };
/** Sessions on the chart: the latest this many. */
const CHART_SESSIONS = 40;

/** SPEC §13: one exercise's progress — its PRs, best estimated 1RM per session, every session it was in. */
export function ExercisePage(props: { email: string; csrf: string; timezone: string; progress: ExerciseProgress }) {
  const p = props.progress;
  const day = (iso: string) => formatDate(iso, props.timezone);
  const charted = p.sessions.filter((s) => s.best_e1rm_kg !== null).slice(-CHART_SESSIONS);
  return (
    <Layout title={p.title} session={{ email: props.email, csrf: props.csrf }} current="hub">
      <p><a href="/hevy">← Hevy hub</a></p>
      <p class="muted">{formatNumber(p.sessions.length)} {p.sessions.length === 1 ? "session" : "sessions"}</p>
      <div class="card">
        <h2>Personal records</h2>
        {p.prs.length === 0 ? (
          <p class="muted">No record yet: records count working sets with weight or reps.</p>
        ) : (
          <ul id="exercise-prs">
            {p.prs.map((pr) => (
              <li data-kind={pr.kind}>
                {KIND_NAMES[pr.kind]}: <strong>{pr.kind === "most_reps" ? `${formatNumber(pr.value)} reps` : recordKg(pr.value)}</strong>{" "}
                <a href={`/workouts/hevy/${encodeURIComponent(pr.workout_id)}`}>{day(pr.achieved_at)}</a>
              </li>
            ))}
          </ul>
        )}
      </div>
      {charted.length > 0 && (
        <div class="card">
          <h2>Best estimated 1RM per session</h2>
          <BarChart id="e1rm-chart" title={`Best estimated 1RM (kg), latest ${charted.length} sessions`} yLabel="e1RM (kg)" xLabel="session date"
            bars={charted.map((s) => ({ label: day(s.start_time), value: s.best_e1rm_kg! }))} />
        </div>
      )}
      <div class="card">
        <h2>Sessions</h2>
        <div class="table-wrap">
          <table id="exercise-sessions">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Workout</th>
                <th scope="col" class="num">Working sets</th>
                <th scope="col" class="num">Heaviest</th>
                <th scope="col" class="num">Best e1RM</th>
                <th scope="col" class="num">Volume</th>
              </tr>
            </thead>
            <tbody>
              {[...p.sessions].reverse().map((s) => (
                <tr data-workout={s.workout_id}>
                  <td>{day(s.start_time)}</td>
                  <td><a href={`/workouts/hevy/${encodeURIComponent(s.workout_id)}`}>{s.title || "Workout"}</a></td>
                  <td class="num">{formatNumber(s.sets)}</td>
                  <td class="num">{s.heaviest_kg === null ? "–" : formatKg(s.heaviest_kg)}</td>
                  <td class="num">{s.best_e1rm_kg === null ? "–" : formatKg(s.best_e1rm_kg)}</td>
                  <td class="num">{formatKg(s.volume_kg)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Layout>
  );
}
