import { type ExerciseProgress, SESSIONS_SHOWN } from "../services/metrics/exercise-progress";
import { BarChart, LineChart } from "./charts";
import { formatDate, formatDay, formatKg, formatNumber, formatRecord, prKindName, workoutHref } from "./format";
import { Layout, TableWrap } from "./layout";

/** Sessions on the chart: the latest this many. */
const CHART_SESSIONS = 40;


/**
 * SPEC §13: one exercise's progress — its PRs, best estimated 1RM and heaviest weight per session,
 * volume per week, every session it was in.
 */
export function ExercisePage(props: { email: string; csrf: string; timezone: string; progress: ExerciseProgress }) {
  const p = props.progress;
  const day = (iso: string) => formatDate(iso, props.timezone);
  const charted = p.sessions.filter((s) => s.best_e1rm_kg !== null || s.heaviest_kg !== null).slice(-CHART_SESSIONS);
  const trained = p.weeks.some((w) => w.sets > 0);
  return (
    <Layout title={p.title} session={{ email: props.email, csrf: props.csrf }} current="hub">
      <p><a href="/hevy">← Hevy hub</a></p>
      <p class="muted">
        {p.sessions.length >= SESSIONS_SHOWN
          ? `The latest ${formatNumber(SESSIONS_SHOWN)} sessions (the records cover every one)`
          : `${formatNumber(p.sessions.length)} ${p.sessions.length === 1 ? "session" : "sessions"}`}
      </p>
      <div class="card">
        <h2>Personal records</h2>
        {p.prs.length === 0 ? (
          <p class="muted">No record yet: records count working sets with weight or reps.</p>
        ) : (
          <ul id="exercise-prs">
            {p.prs.map((pr) => (
              <li data-kind={pr.kind}>
                {prKindName(pr.kind)}: <strong>{formatRecord(pr.kind, pr.value)}</strong>{" "}
                <a href={workoutHref(pr.workout_id)}>{day(pr.achieved_at)}</a>
              </li>
            ))}
          </ul>
        )}
      </div>
      {charted.length > 0 && (
        <div class="card">
          <h2>Best estimated 1RM and heaviest weight per session</h2>
          <LineChart id="progress-chart" title={`Best estimated 1RM and heaviest weight (kg), latest ${charted.length} sessions`} yLabel="kg" xLabel="session date"
            labels={charted.map((s) => day(s.start_time))}
            series={[{ name: "Best e1RM", values: charted.map((s) => s.best_e1rm_kg) }, { name: "Heaviest", values: charted.map((s) => s.heaviest_kg) }]} />
          <p class="muted">The sessions table below lists the same numbers.</p>
        </div>
      )}
      <div class="card">
        <h2>Volume per week</h2>
        {trained ? (
          <>
            <BarChart id="weekly-volume-chart" title={`Volume per week (kg), last ${p.weeks.length} weeks`} yLabel="volume (kg)" xLabel="week starting"
              bars={p.weeks.map((w) => ({ label: formatDay(w.week_start), value: w.volume_kg }))} />
            <details>
              <summary>Volume per week as a table</summary>
              <TableWrap label="Volume per week">
                <table id="exercise-weeks">
                  <thead>
                    <tr>
                      <th scope="col">Week starting</th>
                      <th scope="col" class="num">Working sets</th>
                      <th scope="col" class="num">Volume</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...p.weeks].reverse().map((w) => (
                      <tr data-week={w.week_start}>
                        <td>{formatDay(w.week_start)}</td>
                        <td class="num">{formatNumber(w.sets)}</td>
                        <td class="num">{formatKg(w.volume_kg)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </details>
          </>
        ) : (
          <p class="muted" data-empty-weeks>No sets of this exercise in the last {p.weeks.length} weeks.</p>
        )}
      </div>
      <div class="card">
        <h2>Sessions</h2>
        <TableWrap label="Sessions of this exercise">
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
                  <td><a href={workoutHref(s.workout_id)}>{s.title || "Workout"}</a></td>
                  <td class="num">{formatNumber(s.sets)}</td>
                  <td class="num">{s.heaviest_kg === null ? "–" : formatKg(s.heaviest_kg)}</td>
                  <td class="num">{s.best_e1rm_kg === null ? "–" : formatKg(s.best_e1rm_kg)}</td>
                  <td class="num">{formatKg(s.volume_kg)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </div>
    </Layout>
  );
}
