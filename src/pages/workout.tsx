import type { ExerciseView, SetView, WorkoutView } from "../services/workouts";
import { formatDateTime, formatDistance, formatDuration, formatKg, formatNumber } from "./format";
import { Layout } from "./layout";

const SET_TYPES: Record<string, string> = { normal: "Normal", warmup: "Warm-up", failure: "Failure", dropset: "Drop set" };
const setType = (type: string) => SET_TYPES[type] ?? type;

function SetsTable(props: { exercise: ExerciseView }) {
  const sets = props.exercise.sets;
  const withDistance = sets.some((s) => s.distance_meters !== null);
  const withDuration = sets.some((s) => s.duration_seconds !== null);
  const cell = (value: number | null, show: (n: number) => string) => (value === null ? "–" : show(value));
  return (
    <div class="table-wrap">
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
          {sets.map((s: SetView) => (
            <tr>
              <th scope="row" class="num">{s.index + 1}</th>
              <td>{setType(s.type)}</td>
              <td class="num">{cell(s.weight_kg, formatKg)}</td>
              <td class="num">{cell(s.reps, formatNumber)}</td>
              <td class="num">{cell(s.rpe, formatNumber)}</td>
              {withDistance && <td class="num">{cell(s.distance_meters, formatDistance)}</td>}
              {withDuration && <td class="num">{cell(s.duration_seconds, formatDuration)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function WorkoutPage(props: { email: string; csrf: string; timezone: string; workout: WorkoutView }) {
  const w = props.workout;
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
      </div>
      {w.exercises.length === 0 && <p class="muted">This workout has no exercises.</p>}
      {w.exercises.map((e) => (
        <section class="card" aria-labelledby={`exercise-${e.index}`}>
          <h2 id={`exercise-${e.index}`}>
            {e.index + 1}. {e.title}
            {e.superset_id !== null && <span class="badge warn"> Superset {e.superset_id + 1}</span>}
          </h2>
          {e.notes && <p class="muted">{e.notes}</p>}
          {e.exercise_template_id && (
            <p>
              <a href={`/hevy/exercises/${encodeURIComponent(e.exercise_template_id)}`}>{e.title}: progress over time</a>
            </p>
          )}
          {e.sets.length === 0 ? <p class="muted">No sets.</p> : <SetsTable exercise={e} />}
        </section>
      ))}
      <p>
        <a href="/workouts">← All workouts</a>
      </p>
    </Layout>
  );
}
