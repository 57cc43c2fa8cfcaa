import type { Summary } from "../services/metrics/summary";
import type { PrKind, PrView } from "../services/metrics/prs";
import { deltaOf, type ReadingView, type SessionRecovery } from "../services/metrics/recovery";
import { BarChart } from "./charts";
import { exerciseHref, formatDate, formatDay, formatDuration, formatKg, formatNumber, formatRecord, workoutHref } from "./format";
import { Layout, TableWrap } from "./layout";
import { SessionsRecoveryChart, signed } from "./recovery-chart";

/** The hub's windows, in weeks (`?weeks=`); 12 by default. */
export const HUB_WEEKS = [4, 12, 26, 52];

/** Records as people read them; weights keep their plate decimals (formatKg), the estimate one decimal (formatRecord). */
const KINDS: Array<[PrKind, string, (p: PrView) => string]> = [
  ["heaviest_weight", "Heaviest", (p) => formatRecord(p.kind, p.value)],
  ["best_e1rm", "Best e1RM", (p) => `${formatRecord(p.kind, p.value)} (${formatKg(p.weight_kg ?? 0)} × ${p.reps})`],
  ["most_reps", "Most reps", (p) => formatRecord(p.kind, p.value)],
  ["best_set_volume", "Best set", (p) => `${formatRecord(p.kind, p.value)} (${formatKg(p.weight_kg ?? 0)} × ${p.reps})`],
];

/** Display rounding only (the API never rounds): one decimal at most, thousands separated. */
const num = formatNumber;
const weekLabel = (weekStart: string) => weekStart.slice(5);

function Reading(props: { name: string; reading: ReadingView | null }) {
  if (!props.reading) return <p>{props.name}: <span class="muted">no reading for the next morning</span></p>;
  const r = props.reading;
  const delta = deltaOf(r);
  return (
    <p>
      {props.name} on <time datetime={r.date}>{formatDay(r.date)}</time>: <span class="stat">{num(r.score)}</span>{" "}
      {r.avg_30d === null || delta === null ? (
        <span class="muted">(no 30-day average yet)</span>
      ) : (
        <span class="muted">
          vs 30-day average {num(r.avg_30d)} ({signed(delta)})
        </span>
      )}
    </p>
  );
}

export function HubPage(props: {
  email: string;
  csrf: string;
  timezone: string;
  summary: Summary;
  /** The window's sessions against the next mornings. */
  sessions: SessionRecovery[];
  weeks: number;
  connected: boolean;
  /** The history is still being fetched from Hevy (queued or running). */
  backfilling?: boolean;
}) {
  const s = props.summary;
  // Dates of sessions and PRs are the user's local dates.
  const day = (iso: string) => formatDate(iso, props.timezone);
  const byExercise = new Map<string, { title: string; prs: Partial<Record<PrKind, PrView>> }>();
  for (const p of s.prs) {
    const entry = byExercise.get(p.exercise_template_id) ?? { title: p.exercise_title, prs: {} };
    entry.prs[p.kind] = p;
    byExercise.set(p.exercise_template_id, entry);
  }
  const maxGroupSets = Math.max(1, ...s.muscle_groups.map((g) => g.sets));
  const latest = s.latest_session_recovery;
  return (
    <Layout title="Hevy hub" session={{ email: props.email, csrf: props.csrf }} current="hub">
      {!props.connected && (
        <p class="notice">
          Hevy is not connected yet. <a href="/connections/hevy">Connect it</a> to see your training here.
        </p>
      )}
      {props.connected && props.backfilling && (
        <p class="notice" role="status">
          Your Hevy history is still being fetched: the numbers below grow as it arrives. <a href="/connections/hevy">See the progress</a>.
        </p>
      )}
      <nav aria-label="Window" class="row filters" id="window-selector">
        <span>Window:</span>
        {HUB_WEEKS.map((w) => (
          <a href={`/hevy?weeks=${w}`} aria-current={w === props.weeks ? "true" : undefined} class={w === props.weeks ? "badge ok" : "badge"}>
            {w} weeks
          </a>
        ))}
      </nav>
      <div class="grid">
        <div class="card">
          <h2>Last {props.weeks} weeks</h2>
          <p>
            <span class="stat" data-total-workouts>{num(s.totals.workouts)}</span> workouts · <span class="stat">{num(s.totals.sets)}</span> sets ·{" "}
            <span class="stat" data-total-volume>{num(s.totals.volume_kg)}</span> kg
          </p>
        </div>
        <div class="card">
          <h2>Latest session vs next morning</h2>
          {latest ? (
            <>
              <p class="muted">Session of {day(latest.start_time)}</p>
              <Reading name="WHOOP recovery" reading={latest.whoop_recovery} />
              <Reading name="Oura readiness" reading={latest.oura_readiness} />
            </>
          ) : (
            <p class="muted">No lift session yet.</p>
          )}
        </div>
      </div>
      <div class="card">
        <h2>Sessions vs the next morning</h2>
        <SessionsRecoveryChart sessions={props.sessions} timezone={props.timezone} weeks={props.weeks} />
      </div>
      <div class="card">
        <h2>Weekly volume</h2>
        <BarChart id="volume-chart" title="Weekly volume (kg)" yLabel="volume (kg)" xLabel="week starting (Monday)" bars={s.weeks.map((w) => ({ label: weekLabel(w.week_start), value: w.volume_kg }))} />
      </div>
      <div class="card">
        <h2>Workouts per week</h2>
        <BarChart id="workouts-chart" title="Workouts per week" yLabel="workouts" xLabel="week starting (Monday)" bars={s.weeks.map((w) => ({ label: weekLabel(w.week_start), value: w.workouts }))} />
      </div>
      <div class="card">
        <h2>Personal records</h2>
        {byExercise.size === 0 ? (
          <p class="muted">No records yet.</p>
        ) : (
          <TableWrap label="Personal records">
            <table id="pr-table">
              <thead>
                <tr>
                  <th>Exercise</th>
                  {KINDS.map(([, label]) => (
                    <th>{label}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[...byExercise.entries()].map(([id, e]) => (
                  <tr data-template={id}>
                    <td><a href={exerciseHref(id)}>{e.title}</a></td>
                    {KINDS.map(([kind, , show]) => {
                      const p = e.prs[kind];
                      return (
                        <td data-kind={kind}>
                          {p ? (
                            <>
                              {show(p)}
                              <br />
                              <a class="muted" href={workoutHref(p.workout_id)}>{day(p.achieved_at)}</a>
                            </>
                          ) : (
                            "—"
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </div>
      <div class="grid">
        <div class="card">
          <h2>Muscle groups ({props.weeks} weeks)</h2>
          <table id="muscle-groups">
            <thead>
              <tr>
                <th>Group</th>
                <th class="num">Sets</th>
                <th class="num">Volume (kg)</th>
              </tr>
            </thead>
            <tbody>
              {s.muscle_groups.map((g) => (
                <tr>
                  <td>
                    {g.muscle_group.replace(/_/g, " ")}
                    <svg viewBox="0 0 100 6" width="100%" height="6" aria-hidden="true">
                      <rect class="bar" x="0" y="0" height="6" width={String((g.sets / maxGroupSets) * 100)} fill="#2f6fed" />
                    </svg>
                  </td>
                  <td class="num">{num(g.sets)}</td>
                  <td class="num">{num(g.volume_kg)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="card">
          <h2>Recent sessions</h2>
          <table id="recent-sessions">
            <thead>
              <tr>
                <th>Date</th>
                <th>Workout</th>
                <th class="num">Sets</th>
                <th class="num">Volume (kg)</th>
              </tr>
            </thead>
            <tbody>
              {s.recent_sessions.map((r) => (
                <tr>
                  <td>{day(r.start_time)}</td>
                  <td>
                    <a href={workoutHref(r.id)}>{r.title || "Workout"}</a> <span class="muted">{formatDuration(r.duration_seconds)}</span>
                  </td>
                  <td class="num">{num(r.set_count)}</td>
                  <td class="num">{num(r.volume_kg)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Layout>
  );
}
