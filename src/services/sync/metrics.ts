import type { Workout } from "../../hevy/types";

export interface WorkoutMetrics {
  volumeKg: number;
  setCount: number;
  exerciseCount: number;
}

/**
 * A set's share of volume as the contract defines it: weight × reps for a non-warm-up set that
 * has both, else 0. The one rule behind the per-workout metric and the per-exercise volume.
 */
export function setVolumeKg(set: { type: string; weightKg: number | null; reps: number | null }): number {
  return set.type !== "warmup" && set.weightKg !== null && set.reps !== null ? set.weightKg * set.reps : 0;
}

/** Per-workout metrics: volume is Σ setVolumeKg; the set count includes warm-ups. */
export function workoutMetrics(workout: Workout): WorkoutMetrics {
  let volumeKg = 0;
  let setCount = 0;
  for (const exercise of workout.exercises) {
    for (const set of exercise.sets) {
      setCount++;
      volumeKg += setVolumeKg(set);
    }
  }
  return { volumeKg, setCount, exerciseCount: workout.exercises.length };
}
