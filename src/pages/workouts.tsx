import { isoUtc, parseInstant } from "../lib/time";
import { addDays, startOfLocalDay } from "../lib/zoned-time";
import { FEED_SOURCES, type FeedSource, type UnifiedRow } from "../services/unified";
import { activityName, formatDateTime, formatDuration, formatKg, formatNumber, sourceName, workoutHref } from "./format";
import { Layout, TableWrap } from "./layout";


interface FeedQuery {
  source?: FeedSource;
  from?: string;
  to?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** What the feed page reads of its query; anything else a link carries is ignored. */
const FEED_PARAMS = new Set(["source", "from", "to", "cursor"]);

/**
 * The page's query as the API's schema (unifiedListQuery) should read it. The schema reads a bare
 * date as UTC midnight; the range form's date fields mean the user's days. So a date `from` becomes
 * local midnight of that day in `zone`, and a date `to` the local midnight after it (the schema's
 * `to` is exclusive: the day is included). An empty field (the form sends `from=`) is no bound.
 * Everything else is left for the schema to read or refuse as the API would: date-times,
 * impossible dates, repeated parameters, and a `to` day before the `from` day (kept as UTC
 * midnights, which the schema refuses as from after to).
 */
export function feedQueryInZone(queries: Record<string, string[]>, zone: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(queries)) {
    // A page link may carry parameters of its own (utm_source, fbclid…): only the feed's are read.
    if (!FEED_PARAMS.has(key)) continue;
    if ((key === "from" || key === "to") && values.length === 1 && values[0] === "") continue;
    query[key] = values.length === 1 ? values[0]! : values;
  }
  const day = (value: unknown) => (typeof value === "string" && DATE.test(value) && parseInstant(value) !== null ? value : null);
  const from = day(query.from);
  const to = day(query.to);
  if (from !== null && to !== null && from > to) return query;
  if (from !== null) query.from = isoUtc(startOfLocalDay(from, zone));
  // The last day of year 9999 has no next day to bound it: it stays as given.
  const next = to === null ? null : addDays(to, 1);
  if (next !== null && DATE.test(next)) query.to = isoUtc(startOfLocalDay(next, zone));
  return query;
}

/** /workouts with the filter `q` (and a cursor): the link of a page of the feed. */
function feedHref(q: FeedQuery, cursor?: string): string {
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
  return <a href={workoutHref(id)}>{text}</a>;
}

export function WorkoutsPage(props: {
  email: string; csrf: string; timezone: string; query: FeedQuery; paged: boolean; rows: UnifiedRow[]; nextCursor: string | null;
}) {
  const q = props.query;
  const ranged = Boolean(q.from || q.to);
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
      {/* GET, so a range is a link like any other page of the feed; a new range starts at its newest. */}
      <form method="get" action="/workouts" class="row filters" aria-label="Filter by date">
        {q.source && <input type="hidden" name="source" value={q.source} />}
        <label for="feed-from">From</label>
        <input type="date" id="feed-from" name="from" value={q.from && DATE.test(q.from) ? q.from : undefined} />
        <label for="feed-to">To</label>
        <input type="date" id="feed-to" name="to" value={q.to && DATE.test(q.to) ? q.to : undefined} />
        <button type="submit">Apply</button>
        {ranged && <a href={feedHref({ source: q.source })}>All dates</a>}
      </form>
      {props.rows.length === 0 ? (
        <p class="muted" data-empty>
          {props.paged ? "No older workouts." : ranged ? "No workouts in these dates." : q.source ? `No ${sourceName(q.source)} workouts yet.` : "No workouts yet."}
        </p>
      ) : (
        <TableWrap label="Workouts" class="card">
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
        </TableWrap>
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
