// The project's own shape of Hevy data. Only src/hevy/ knows Hevy's wire format;
// everything past the client works with these types (instants as epoch ms).

/**
 * Hevy's set types are `warmup | normal | failure | dropset` today, but Hevy may add more: an
 * unknown one is stored as given, and every set that is not `warmup` is a working set.
 */
export type SetType = "warmup" | "normal" | "failure" | "dropset" | (string & {});

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

/** A record Hevy sent that cannot be stored (no id, unparseable times): skipped, not fatal to its page. */
export interface SkippedRecord {
  /** Hevy's id when the record has a usable one (it can be fetched again by it), else `unidentified:` and a digest of the record. */
  key: string;
  reason: string;
}

export interface Page<T> {
  page: number;
  pageCount: number;
  items: T[];
  /** Records of this page that failed validation one by one; the rest of the page is in `items`. */
  skipped: SkippedRecord[];
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
