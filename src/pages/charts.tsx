// Inline SVG charts: no script, no build step, labelled axes, readable at phone width.

export interface Bar {
  label: string;
  value: number;
}

/** Round numbers for axis ticks: 1, 2 or 5 times a power of ten. */
export function niceStep(max: number, ticks = 4): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** The x and y axis lines and their labels. */
function Axes(props: { left: number; right: number; top: number; bottom: number; height: number; xLabel: string; yLabel: string }) {
  return (
    <>
      <line x1={props.left} x2={props.right} y1={props.bottom} y2={props.bottom} stroke="#5d6675" />
      <line x1={props.left} x2={props.left} y1={props.top} y2={props.bottom} stroke="#5d6675" />
      <text x={(props.left + props.right) / 2} y={props.height - 8} text-anchor="middle">{props.xLabel}</text>
      <text transform={`translate(14 ${(props.top + props.bottom) / 2}) rotate(-90)`} text-anchor="middle">{props.yLabel}</text>
    </>
  );
}

/** Horizontal gridlines at `ticks`, each labelled on the y axis. */
export function Gridlines(props: {
  ticks: number[]; y: (v: number) => number; left: number; right: number;
  /** The tick's label (compact numbers by default) and line colour (light grey by default). */
  label?: (t: number) => string; stroke?: (t: number) => string;
}) {
  const label = props.label ?? compact;
  return (
    <>
      {props.ticks.map((t) => (
        <g>
          <line x1={props.left} x2={props.right} y1={props.y(t)} y2={props.y(t)} stroke={props.stroke?.(t) ?? "#e2e5ea"} />
          <text x={props.left - 6} y={props.y(t) + 4} text-anchor="end">{label(t)}</text>
        </g>
      ))}
    </>
  );
}

/** Ticks from `from` to `to`, `step` apart (both ends included). */
export const tickValues = (from: number, to: number, step: number) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

const compact = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n * 10) / 10}`);

export function BarChart(props: { bars: Bar[]; yLabel: string; xLabel: string; title: string; id?: string }) {
  const width = 640;
  const height = 240;
  const pad = { left: 56, right: 12, top: 16, bottom: 52 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(0, ...props.bars.map((b) => b.value));
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks = tickValues(0, top, step);
  const slot = plotW / Math.max(1, props.bars.length);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => pad.top + plotH - (v / top) * plotH;
  const labelEvery = Math.ceil(props.bars.length / 8);
  return (
    <svg class="chart" id={props.id} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <Gridlines ticks={ticks} y={y} left={pad.left} right={width - pad.right} />
      {props.bars.map((b, i) => {
        const x = pad.left + i * slot + (slot - barW) / 2;
        return (
          <g>
            <rect class="bar" x={x} y={y(b.value)} width={barW} height={pad.top + plotH - y(b.value)} data-label={b.label} data-value={String(b.value)}>
              <title>{`${b.label}: ${compact(b.value)}`}</title>
            </rect>
            {i % labelEvery === 0 && (
              <text x={x + barW / 2} y={height - pad.bottom + 16} text-anchor="middle">{b.label}</text>
            )}
          </g>
        );
      })}
      <Axes left={pad.left} right={width - pad.right} top={pad.top} bottom={pad.top + plotH} height={height} xLabel={props.xLabel} yLabel={props.yLabel} />
    </svg>
  );
}

export interface LineSeries {
  name: string;
  /** One value per label; null leaves a gap in the line. */
  values: Array<number | null>;
}

// Two series told apart by more than colour: the second is dashed, with square points.
const SERIES_STYLES = [
  { color: "#2f6fed", dash: undefined, square: false },
  { color: "#b35c00", dash: "6 4", square: true },
];

/** Lines with points over ordered labels (e.g. sessions), y from a round value below the lowest to one above the highest. */
export function LineChart(props: { labels: string[]; series: LineSeries[]; yLabel: string; xLabel: string; title: string; id?: string }) {
  const width = 640;
  const height = 260;
  // Room on the right for half of the last date label, centred on the last point.
  const pad = { left: 56, right: 40, top: 36, bottom: 52 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const values = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const min = Math.min(...values);
  const max = Math.max(...values);
  const step = niceStep(max - min || max);
  const bottom = Math.max(0, Math.floor(min / step) * step);
  const top = Math.max(bottom + step, Math.ceil(max / step) * step);
  const ticks = tickValues(bottom, top, step);
  const n = props.labels.length;
  const x = (i: number) => pad.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => pad.top + plotH - ((v - bottom) / (top - bottom)) * plotH;
  const labelEvery = Math.ceil(n / 6);
  return (
    <svg class="chart" id={props.id} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <Gridlines ticks={ticks} y={y} left={pad.left} right={width - pad.right} />
      {props.labels.map((label, i) =>
        i % labelEvery === 0 ? <text x={x(i)} y={height - pad.bottom + 16} text-anchor="middle">{label}</text> : null,
      )}
      {props.series.map((s, si) => {
        const style = SERIES_STYLES[si % SERIES_STYLES.length]!;
        // A null value ends the segment: the line never bridges a session without one.
        let d = "";
        s.values.forEach((v, i) => {
          if (v !== null) d += `${i > 0 && s.values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
        });
        return (
          <g data-series={s.name}>
            <path d={d} fill="none" stroke={style.color} stroke-width="2" stroke-dasharray={style.dash} />
            {s.values.map((v, i) => {
              if (v === null) return null;
              const point = <title>{`${props.labels[i]}: ${s.name} ${compact(v)}`}</title>;
              return style.square ? (
                <rect x={x(i) - 3.5} y={y(v) - 3.5} width="7" height="7" fill={style.color} data-value={String(v)}>{point}</rect>
              ) : (
                <circle cx={x(i)} cy={y(v)} r="3.5" fill={style.color} data-value={String(v)}>{point}</circle>
              );
            })}
          </g>
        );
      })}
      <g class="legend">
        {props.series.map((s, si) => {
          const style = SERIES_STYLES[si % SERIES_STYLES.length]!;
          const lx = pad.left + si * 180;
          return (
            <g>
              <line x1={lx} x2={lx + 24} y1={14} y2={14} stroke={style.color} stroke-width="2" stroke-dasharray={style.dash} />
              <text x={lx + 30} y={18}>{s.name}</text>
            </g>
          );
        })}
      </g>
      <Axes left={pad.left} right={width - pad.right} top={pad.top} bottom={pad.top + plotH} height={height} xLabel={props.xLabel} yLabel={props.yLabel} />
    </svg>
  );
}
