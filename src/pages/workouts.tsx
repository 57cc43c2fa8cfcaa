import type { FeedSource, UnifiedRow } from "../services/unified";
import { activityName, formatDateTime, formatDuration, formatKg, formatNumber, sourceName } from "./format";
import { Layout } from "./layout";

export const FEED_SOURCES: FeedSource[] = ["hevy", "apple_health", "whoop", "oura", "strava"];

export interface FeedQuery {
  source?: FeedSource;
  from?: string;
  to?: string;
}

/** /workouts with the filter `q` (and a cursor): the link of a page of the feed. */
export function feedHref(q: FeedQuery, cursor?: string): string {
  const params = new URLSearchParams();
  if (q.source) params.set("source", q.source);
  if (q.from) params.set("from", q.from);
  if (q.to) params.set("to", q.to);
  if (cursor) params.set("cursor", cursor);
  const s = params.toString();
  return s ? `/workouts?${s}` : "/workouts";
}

function Title(props: { row: UnifiedRow }) {
  const r = props.row;
  const text = r.title || activityName(r.activity_type);
  if (r.primary_source !== "hevy") return <>{text}</>;
  const id = r.id.slice("hevy:".length);
  return <a href={`/workouts/hevy/${encodeURIComponent(id)}`}>{text}</a>;
}

export function WorkoutsPage(props: {
  email: string; csrf: string; timezone: string; query: FeedQuery; paged: boolean; rows: UnifiedRow[]; nextCursor: string | null;
}) {
  const q = props.query;
  const options: Array<[FeedSource | undefined, string]> = [[undefined, "All sources"], ...FEED_SOURCES.map((s): [FeedSource, string] => [s, sourceName(s)])];
  return (
    <Layout title="Workouts" session={{ email: props.email, csrf: props.csrf }} current="workouts">
      <nav aria-label="Filter by source" class="row filters">
        <span>Source:</span>
        {options.map(([source, label]) => (
          <a href={feedHref({ ...q, source })} aria-current={q.source === source ? "true" : undefined} class={q.source === source ? "badge ok" : "badge"}>
            {label}
          </a>
        ))}
      </nav>
      {props.rows.length === 0 ? (
        <p class="muted" data-empty>
          {props.paged ? "No older workouts." : q.source ? `No ${sourceName(q.source)} workouts yet.` : "No workouts yet."}
        </p>
      ) : (
        <div class="card table-wrap">
          <table id="workouts-feed">
            <caption class="muted">Newest first; times in {props.timezone}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Workout</th>
                <th scope="col">Sources</th>
                <th scope="col" class="num">Duration</th>
                <th scope="col" class="num">Volume</th>
                <th scope="col" class="num">Calories</th>
                <th scope="col" class="num">Avg HR</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr data-row-id={r.id}>
                  <td>
                    <time datetime={r.start_time}>{formatDateTime(r.start_time, props.timezone)}</time>
                  </td>
                  <th scope="row">
                    <Title row={r} />
                  </th>
                  <td data-sources>{r.sources.map(sourceName).join(" + ")}</td>
                  <td class="num">{formatDuration(r.duration_seconds)}</td>
                  <td class="num">{r.strength ? formatKg(r.strength.volume_kg) : "–"}</td>
                  <td class="num">{r.calories_kcal === null ? "–" : `${formatNumber(r.calories_kcal)} kcal`}</td>
                  <td class="num">{r.avg_hr_bpm === null ? "–" : `${formatNumber(r.avg_hr_bpm)} bpm`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(props.paged || props.nextCursor) && (
        <nav aria-label="Pages" class="row">
          {props.paged && <a href={feedHref(q)}>Newest workouts</a>}
          {props.nextCursor && (
            <a href={feedHref(q, props.nextCursor)} rel="next" data-next>
              Older workouts →
            </a>
          )}
        </nav>
      )}
    </Layout>
  );
}
