import type { Workout } from "../../hevy/types";

export interface WorkoutMetrics {
  volumeKg: number;
  setCount: number;
  exerciseCount: number;
}

/**
 * Per-workout metrics as the contract defines them: volume is Σ weight × reps
 * over non-warm-up sets that have both; the set count includes warm-ups.
 */
export function workoutMetrics(workout: Workout): WorkoutMetrics {
  let volumeKg = 0;
  let setCount = 0;
  for (const exercise of workout.exercises) {
    for (const set of exercise.sets) {
      setCount++;
      if (set.type !== "warmup" && set.weightKg !== null && set.reps !== null) volumeKg += set.weightKg * set.reps;
    }
  }
  return { volumeKg, setCount, exerciseCount: workout.exercises.length };
}
