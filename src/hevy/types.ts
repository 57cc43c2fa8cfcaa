// The project's own shape of Hevy data. Only src/hevy/ knows Hevy's wire format;
// everything past the client works with these types (instants as epoch ms).

export type SetType = "warmup" | "normal" | "failure" | "dropset";

export interface WorkoutSet {
  index: number;
  type: SetType;
  weightKg: number | null;
  reps: number | null;
  distanceMeters: number | null;
  durationSeconds: number | null;
  rpe: number | null;
  customMetric: number | null;
}

export interface Exercise {
  index: number;
  title: string;
  notes: string | null;
  exerciseTemplateId: string | null;
  supersetId: number | null;
  sets: WorkoutSet[];
}

export interface Workout {
  id: string;
  title: string;
  description: string | null;
  routineId: string | null;
  startTime: number;
  endTime: number;
  updatedAt: number;
  createdAt: number | null;
  exercises: Exercise[];
}

export interface ExerciseTemplate {
  id: string;
  title: string;
  type: string;
  primaryMuscleGroup: string;
  secondaryMuscleGroups: string[];
  equipmentCategory: string | null;
  isCustom: boolean;
}

export type WorkoutEvent =
  | { type: "updated"; workout: Workout }
  | { type: "deleted"; id: string; deletedAt: number | null };

export interface Page<T> {
  page: number;
  pageCount: number;
  items: T[];
}

export interface HevyUser {
  id: string;
  name: string;
  url: string | null;
}

export interface WebhookSubscription {
  url: string;
  authToken: string;
}
