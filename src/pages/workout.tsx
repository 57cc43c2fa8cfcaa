import type { PrKind } from "../services/metrics/prs";
import type { ExerciseView, LinkedHealth, SetView, WorkoutDetail } from "../services/workouts";
import { exerciseHref, formatDateTime, formatDistance, formatDuration, formatKg, formatNumber, prKindName } from "./format";
import { Layout, TableWrap } from "./layout";

const SET_TYPES: Record<string, string> = { normal: "Normal", warmup: "Warm-up", failure: "Failure", dropset: "Drop set" };
const setType = (type: string) => SET_TYPES[type] ?? type;

/** The PRs each set holds, by "exercise index:set index". */
type RecordsBySet = Map<string, PrKind[]>;
const setKey = (exerciseIndex: number, setIndex: number) => `${exerciseIndex}:${setIndex}`;

function SetsTable(props: { exercise: ExerciseView; records: RecordsBySet }) {
  const sets = props.exercise.sets;
  const withDistance = sets.some((s) => s.distance_meters !== null);
  const withDuration = sets.some((s) => s.duration_seconds !== null);
  const cell = (value: number | null, show: (n: number) => string) => (value === null ? "–" : show(value));
  return (
    <TableWrap label={`Sets of ${props.exercise.title}`}>
      <table class="sets">
        <caption class="muted">Sets of {props.exercise.title}</caption>
        <thead>
          <tr>
            <th scope="col" class="num">Set</th>
            <th scope="col">Type</th>
            <th scope="col" class="num">Weight</th>
            <th scope="col" class="num">Reps</th>
            <th scope="col" class="num">RPE</th>
            {withDistance && <th scope="col" class="num">Distance</th>}
            {withDuration && <th scope="col" class="num">Duration</th>}
          </tr>
        </thead>
        <tbody>
          {sets.map((s: SetView) => {
            const records = props.records.get(setKey(props.exercise.index, s.index));
            return (
              <tr>
                <th scope="row" class="num">{s.index + 1}</th>
                <td>
                  {setType(s.type)}
                  {/* The record named in words, in the text colour: the mark is its text, not a colour. */}
                  {records && <> <span class="badge" data-pr>PR: {records.map(prKindName).join(", ")}</span></>}
                </td>
                <td class="num">{cell(s.weight_kg, formatKg)}</td>
                <td class="num">{cell(s.reps, formatNumber)}</td>
                <td class="num">{cell(s.rpe, formatNumber)}</td>
                {withDistance && <td class="num">{cell(s.distance_meters, formatDistance)}</td>}
                {withDuration && <td class="num">{cell(s.duration_seconds, formatDuration)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}

function Exercise(props: { exercise: ExerciseView; records: RecordsBySet; heading: "h2" | "h3" }) {
  const e = props.exercise;
  const Heading = props.heading;
  return (
    <section class={props.heading === "h2" ? "card" : undefined} aria-labelledby={`exercise-${e.index}`}>
      <Heading id={`exercise-${e.index}`}>
        {e.index + 1}. {e.title}
      </Heading>
      {e.notes && <p class="muted">{e.notes}</p>}
      {e.volume_kg > 0 && (
        <p>
          Volume <strong data-exercise-volume>{formatKg(e.volume_kg)}</strong>
        </p>
      )}
      {e.exercise_template_id && (
        <p>
          <a href={exerciseHref(e.exercise_template_id)}>{e.title}: progress over time</a>
        </p>
      )}
      {e.sets.length === 0 ? <p class="muted">No sets.</p> : <SetsTable exercise={e} records={props.records} />}
    </section>
  );
}

/** Exercises in order, each run of neighbours sharing a superset id as one group. */
function inSupersets(exercises: ExerciseView[]): Array<{ superset: number | null; exercises: ExerciseView[] }> {
  const groups: Array<{ superset: number | null; exercises: ExerciseView[] }> = [];
  for (const e of exercises) {
    const last = groups.at(-1);
    if (e.superset_id !== null && last?.superset === e.superset_id) last.exercises.push(e);
    else groups.push({ superset: e.superset_id, exercises: [e] });
  }
  return groups;
}

/** "Apple Health: 412 kcal · avg 131 bpm · max 164 bpm", leaving out what it did not record. */
function healthLine(h: LinkedHealth): string {
  const parts = [
    h.calories_kcal === null ? null : `${formatNumber(h.calories_kcal)} kcal`,
    h.avg_hr_bpm === null ? null : `avg ${formatNumber(h.avg_hr_bpm)} bpm`,
    h.max_hr_bpm === null ? null : `max ${formatNumber(h.max_hr_bpm)} bpm`,
  ].filter((p) => p !== null);
  return parts.length > 0 ? `Apple Health: ${parts.join(" · ")}` : "Apple Health: linked, with no calories or heart rate recorded";
}

export function WorkoutPage(props: { email: string; csrf: string; timezone: string; detail: WorkoutDetail }) {
  const w = props.detail.workout;
  const records: RecordsBySet = new Map(props.detail.records.map((r) => [setKey(r.exercise_index, r.set_index), r.kinds]));
  return (
    <Layout title={w.title || "Workout"} session={{ email: props.email, csrf: props.csrf }} current="workouts">
      <p>
        <a href="/workouts">← All workouts</a>
      </p>
      <div class="card">
        <p>
          <time datetime={w.start_time}>{formatDateTime(w.start_time, props.timezone)}</time> to{" "}
          <time datetime={w.end_time}>{formatDateTime(w.end_time, props.timezone)}</time>
        </p>
        <p>
          Duration <span class="stat" data-duration>{formatDuration(w.duration_seconds)}</span>
        </p>
        {w.description && <p>{w.description}</p>}
        <p>
          <span class="stat" data-volume>{formatKg(w.metrics.volume_kg)}</span> volume · <span class="stat" data-sets>{formatNumber(w.metrics.set_count)}</span> sets ·{" "}
          <span class="stat" data-exercises>{formatNumber(w.metrics.exercise_count)}</span> exercises
        </p>
        {props.detail.apple_health && <p data-apple-health>{healthLine(props.detail.apple_health)}</p>}
      </div>
      {w.exercises.length === 0 && <p class="muted">This workout has no exercises.</p>}
      {inSupersets(w.exercises).map((g) =>
        g.superset === null ? (
          g.exercises.map((e) => <Exercise exercise={e} records={records} heading="h2" />)
        ) : (
          <section class="card" aria-labelledby={`superset-${g.exercises[0]!.index}`} data-superset={String(g.superset)}>
            <h2 id={`superset-${g.exercises[0]!.index}`}>
              Superset {g.superset + 1}
            </h2>
            {g.exercises.map((e) => <Exercise exercise={e} records={records} heading="h3" />)}
          </section>
        ),
      )}
      <p>
        <a href="/workouts">← All workouts</a>
      </p>
    </Layout>
  );
}
