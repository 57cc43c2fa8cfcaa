import { deltaOf, morningsAfter, type SessionRecovery } from "../services/metrics/recovery";
import { Gridlines, niceStep, tickValues } from "./charts";
import { TableWrap } from "./layout";
import { formatDate, formatKg, formatNumber, workoutHref } from "./format";

// The hub's "sessions vs the next morning" (SPEC §13): one SVG, two panels sharing the session
// axis — each session's volume above, the next morning's WHOOP recovery and Oura readiness below
// as points above or below their 30-day average (the zero line). Shape and colour both tell the
// sources apart; a sentence says the pattern and a table under <details> gives every number.

const WHOOP = "#1f8a4c";
const OURA = "#6b3fc4";
/** A distance from an average: "+3", "−9" (a real minus sign), "±0". */
export const signed = (n: number) => `${n > 0 ? "+" : n < 0 ? "−" : "±"}${formatNumber(Math.abs(n))}`;

function Pattern(props: { name: string; summary: { sessions: number; mean_delta: number | null } }) {
  const s = props.summary;
  if (s.mean_delta === null) return <li>{props.name}: no reading with a 30-day average on the morning after a session in this window.</li>;
  const words = s.mean_delta > 0 ? "above" : s.mean_delta < 0 ? "below" : "at";
  return (
    <li>
      {props.name} the morning after a session: on average <strong>{signed(s.mean_delta)}</strong> points {words} your 30-day average ({formatNumber(s.sessions)}{" "}
      {s.sessions === 1 ? "session" : "sessions"}).
    </li>
  );
}

export function SessionsRecoveryChart(props: { sessions: SessionRecovery[]; timezone: string; weeks: number }) {
  const sessions = props.sessions;
  const day = (iso: string) => formatDate(iso, props.timezone);
  if (sessions.length === 0) return <p class="muted">No lift session in the last {props.weeks} weeks.</p>;
  const whoop = morningsAfter(sessions, "whoop");
  const oura = morningsAfter(sessions, "oura");

  const width = 640;
  const pad = { left: 56, right: 12 };
  const top = { y: 12, h: 110 };
  const bottom = { y: 150, h: 110 };
  const height = bottom.y + bottom.h + 44;
  const plotW = width - pad.left - pad.right;
  const slot = plotW / sessions.length;
  const cx = (i: number) => pad.left + i * slot + slot / 2;

  const maxVolume = Math.max(0, ...sessions.map((s) => s.volume_kg));
  const vStep = niceStep(maxVolume, 3);
  const vTop = Math.max(vStep, Math.ceil(maxVolume / vStep) * vStep);
  const vy = (v: number) => top.y + top.h - (v / vTop) * top.h;
  const vTicks = tickValues(0, vTop, vStep);

  const deltas = sessions.flatMap((s) => [deltaOf(s.whoop_recovery), deltaOf(s.oura_readiness)]).filter((d): d is number => d !== null);
  const maxDelta = Math.max(1, ...deltas.map(Math.abs));
  const dStep = niceStep(maxDelta, 2);
  const dTop = Math.ceil(maxDelta / dStep) * dStep;
  const dy = (d: number) => bottom.y + bottom.h / 2 - (d / dTop) * (bottom.h / 2);
  const dTicks = tickValues(-dTop, dTop, dStep);

  const barW = Math.max(1, slot * 0.6);
  const labelEvery = Math.ceil(sessions.length / 6);
  const mark = Math.min(5, Math.max(2.5, slot / 3));
  const title = `Volume of each of ${sessions.length} sessions in the last ${props.weeks} weeks, and the next morning's WHOOP recovery and Oura readiness relative to their 30-day averages`;
  return (
    <>
      <ul class="pattern" id="recovery-pattern">
        <Pattern name="WHOOP recovery" summary={whoop} />
        <Pattern name="Oura readiness" summary={oura} />
      </ul>
      <svg class="chart" id="sessions-recovery-chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
        <title>{title}</title>
        <text x={pad.left} y={top.y - 2}>session volume (kg)</text>
        <Gridlines ticks={vTicks} y={vy} left={pad.left} right={width - pad.right} label={formatNumber} />
        {sessions.map((s, i) => (
          <rect class="bar" x={cx(i) - barW / 2} y={vy(s.volume_kg)} width={barW} height={top.y + top.h - vy(s.volume_kg)} data-session={s.workout_id}>
            <title>{`${day(s.start_time)}: ${formatKg(s.volume_kg)}`}</title>
          </rect>
        ))}
        <text x={pad.left} y={bottom.y - 6}>next morning vs 30-day average (points)</text>
        <Gridlines ticks={dTicks} y={dy} left={pad.left} right={width - pad.right}
          label={(t) => (t === 0 ? "avg" : signed(t))} stroke={(t) => (t === 0 ? "#5d6675" : "#e2e5ea")} />
        {sessions.map((s, i) => {
          const w = deltaOf(s.whoop_recovery);
          const o = deltaOf(s.oura_readiness);
          return (
            <g>
              {w !== null && (
                <circle cx={cx(i)} cy={dy(w)} r={mark} fill={WHOOP} data-whoop={String(w)}>
                  <title>{`${day(s.start_time)}: WHOOP ${s.whoop_recovery!.score} (${signed(w)} vs 30-day average)`}</title>
                </circle>
              )}
              {o !== null && (
                <rect x={cx(i) - mark} y={dy(o) - mark} width={mark * 2} height={mark * 2} fill={OURA} data-oura={String(o)}>
                  <title>{`${day(s.start_time)}: Oura ${s.oura_readiness!.score} (${signed(o)} vs 30-day average)`}</title>
                </rect>
              )}
            </g>
          );
        })}
        {sessions.map((s, i) =>
          i % labelEvery === 0 ? <text x={cx(i)} y={bottom.y + bottom.h + 16} text-anchor="middle">{day(s.start_time)}</text> : null,
        )}
        <circle cx={pad.left + 6} cy={height - 10} r="5" fill={WHOOP} />
        <text x={pad.left + 16} y={height - 6}>WHOOP recovery</text>
        <rect x={pad.left + 140} y={height - 15} width="10" height="10" fill={OURA} />
        <text x={pad.left + 156} y={height - 6}>Oura readiness</text>
      </svg>
      <details>
        <summary>Every session and its next morning (table)</summary>
        <TableWrap label="Every session and its next morning">
          <table id="sessions-recovery">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col" class="num">Volume</th>
                <th scope="col" class="num">WHOOP next morning</th>
                <th scope="col" class="num">Oura next morning</th>
              </tr>
            </thead>
            <tbody>
              {[...sessions].reverse().map((s) => (
                <tr data-workout={s.workout_id}>
                  <th scope="row">
                    <a href={workoutHref(s.workout_id)}>{day(s.start_time)}</a>
                  </th>
                  <td class="num">{formatKg(s.volume_kg)}</td>
                  <td class="num" data-source="whoop">{reading(s.whoop_recovery)}</td>
                  <td class="num" data-source="oura">{reading(s.oura_readiness)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </>
  );
}

function reading(r: SessionRecovery["whoop_recovery"]): string {
  if (r === null) return "–";
  const d = deltaOf(r);
  return d === null ? `${formatNumber(r.score)}` : `${formatNumber(r.score)} (${signed(d)})`;
}
