import { sql } from "drizzle-orm";
import { customType, index, integer, numeric, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** A column declared without a type: no affinity, so SQLite keeps integers and texts as they are given. */
const untypedColumn = customType<{ data: number | string; driverData: number | string }>({ dataType: () => "" });

// Every instant is stored as integer milliseconds since the epoch (UTC): compact,
// index-friendly and free of string-format ambiguity. API responses format them as ISO 8601.

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  timezone: text("timezone").notNull().default("UTC"),
  createdAt: integer("created_at").notNull(),
  /**
   * In the directory (DB): the index of the shard holding the user's rows (SHARD_<n>); null for a
   * user placed before sharding, whose rows are still in the directory database (src/db/shards.ts).
   */
  shard: integer("shard"),
  /** In the directory, while the user is being moved (POST /admin/v1/users/{id}/move): the target shard. */
  movingTo: integer("moving_to"),
  /** In the directory, after a move switched the user: the database still to clear (-1: DB itself, n: SHARD_n). */
  moveCleanup: integer("move_cleanup"),
  /** In the directory: the move in progress (or whose cleanup is), and until when one delivery of it holds it. */
  moveId: text("move_id"),
  moveLeaseUntil: integer("move_lease_until"),
});

/**
 * In the directory: which user a webhook URL's secret belongs to (SHA-256 of the secret), so a
 * delivery finds its user — and through users.shard the shard — before anything else. Written
 * before Hevy learns the URL; the shard's connection row stays the authority (a route whose
 * digest the user's connection no longer has answers 404), and a user's other routes are dropped
 * once a new secret is stored.
 */
export const webhookRoutes = sqliteTable(
  "webhook_routes",
  {
    secretDigest: text("secret_digest").primaryKey(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_routes_user_idx").on(t.userId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 hex of the whole token string; the token itself is never stored. */
    tokenDigest: text("token_digest").notNull().unique(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

export const hevyConnections = sqliteTable("hevy_connections", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /**
   * `disconnected`: the user removed the connection without purging. The key and webhook are
   * gone, but the row stays with the Hevy account and the events cursor, so a later connect
   * reconciles the stored rows instead of walking the whole history again (SPEC §11).
   */
  status: text("status", { enum: ["active", "needs_reconnect", "disconnected"] }).notNull(),
  hevyUserId: text("hevy_user_id").notNull(),
  hevyUserName: text("hevy_user_name").notNull(),
  /** AES-256-GCM envelope (src/lib/crypto.ts) of the Hevy API key; null once disconnected. */
  apiKeyEnvelope: text("api_key_envelope"),
  /**
   * Identifies the stored key: a new random value at every connect or re-connect, null once
   * disconnected. A job carries the epoch it started under and its writes apply only while the
   * row still holds it (src/services/sync/scope.ts), so a purge, disconnect, account switch or new
   * key makes the writes of jobs in flight no-ops. Re-encryption does not change it.
   */
  keyEpoch: text("key_epoch"),
  /** Hevy answered 429 with a Retry-After: nothing calls Hevy with this key before then. */
  hevyPausedUntil: integer("hevy_paused_until"),
  webhookStatus: text("webhook_status", { enum: ["subscribed", "unavailable", "failed"] }).notNull(),
  /** SHA-256 hex of the secret in the webhook URL: deliveries are looked up by it. */
  webhookSecretDigest: text("webhook_secret_digest").unique(),
  webhookSecretEnvelope: text("webhook_secret_envelope"),
  webhookAuthEnvelope: text("webhook_auth_envelope"),
  /** Identifies the current backfill; queue messages of an older run are dropped. */
  backfillRunId: text("backfill_run_id").notNull(),
  backfillState: text("backfill_state", { enum: ["queued", "running", "done", "failed"] }).notNull(),
  backfillPagesDone: integer("backfill_pages_done").notNull().default(0),
  backfillPageCount: integer("backfill_page_count"),
  backfillWorkoutsSynced: integer("backfill_workouts_synced").notNull().default(0),
  backfillStartedAt: integer("backfill_started_at"),
  /**
   * The backfill must also remove stored workouts Hevy no longer has (a re-connect whose events
   * cursor cannot cover the gap, or rows of unknown origin): the walk marks what it sees and
   * the rows it did not see are checked one by one with Hevy before they go.
   */
  backfillReconcile: integer("backfill_reconcile", { mode: "boolean" }).notNull().default(false),
  /**
   * Which walk of the workout list the run is on (1–3, src/services/sync/backfill.ts): chunks of
   * an earlier pass (a redelivery) are dropped, so progress only ever grows within a pass.
   */
  backfillPass: integer("backfill_pass").notNull().default(1),
  /** When the current pass of the walk began (page 1): rows synced before it and not seen since are sweep candidates. */
  walkStartedAt: integer("walk_started_at"),
  /** `since` for Hevy's events feed; advanced only after a delta run stored every page. */
  eventsCursor: integer("events_cursor"),
  lastSyncAt: integer("last_sync_at"),
  lastError: text("last_error"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Hevy workouts. `key` is a small integer (the rowid) naming the workout inside this database: its
 * exercises and sets carry it instead of the user's and Hevy's UUIDs (SPEC §12: rows a quarter the
 * size), so Hevy's id is kept once, here. A workout's key never changes (upserts update in place)
 * and is never given again (AUTOINCREMENT): a purged user's keys cannot come back as another's.
 */
export const hevyWorkouts = sqliteTable(
  "hevy_workouts",
  {
    key: integer("key").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    routineId: text("routine_id"),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time").notNull(),
    /** Hevy's own update time (ms precision kept); the guard against applying older versions. */
    hevyUpdatedAt: integer("hevy_updated_at").notNull(),
    hevyCreatedAt: integer("hevy_created_at"),
    /** Tombstone: set when Hevy reports the workout deleted, so an older update cannot resurrect it. */
    deletedAt: integer("deleted_at"),
    // Per-workout metrics, computed in the same batch that stores the sets.
    volumeKg: real("volume_kg").notNull().default(0),
    setCount: integer("set_count").notNull().default(0),
    exerciseCount: integer("exercise_count").notNull().default(0),
    syncedAt: integer("synced_at").notNull(),
  },
  (t) => [
    uniqueIndex("hevy_workouts_user_id_idx").on(t.userId, t.id),
    index("hevy_workouts_user_start_idx").on(t.userId, t.startTime, t.id),
    index("hevy_workouts_user_updated_idx").on(t.userId, t.hevyUpdatedAt),
  ],
);

/**
 * A small integer per user of this database, for the rows that must find a user's data without
 * going through a workout (exercises by template). Given on the user's first Hevy write; kept.
 */
export const hevyUserKeys = sqliteTable("hevy_user_keys", {
  key: integer("key").primaryKey(),
  userId: text("user_id").notNull().unique(),
});

// WITHOUT ROWID tables (migration 0007, hand-written: drizzle-kit cannot declare it, so a future
// migration that rebuilds one of them must keep it): hevy_exercises, hevy_sets and
// hevy_week_templates. Their primary key is the row, with no second copy of the key in an index.
// Exercises and sets belong to the workout whose key they carry: every read reaches them from a
// hevy_workouts row of the user (or, for exercises by template, through the user's key).

export const hevyExercises = sqliteTable(
  "hevy_exercises",
  {
    workoutKey: integer("workout_key").notNull(),
    index: integer("exercise_index").notNull(),
    userKey: integer("user_key").notNull(),
    title: text("title").notNull(),
    notes: text("notes"),
    exerciseTemplateId: text("exercise_template_id"),
    supersetId: integer("superset_id"),
  },
  (t) => [
    primaryKey({ columns: [t.workoutKey, t.index] }),
    index("hevy_exercises_user_template_idx").on(t.userKey, t.exerciseTemplateId),
  ],
);

/**
 * `type`: a column without type affinity holding Hevy's known set types as small integer codes and
 * any other as its text (src/db/set-type.ts). The measurements are NUMERIC, not REAL: SQLite then
 * stores a whole number (8 reps, 100 kg) as a one- or two-byte integer instead of an 8-byte float
 * (a set 26 B instead of 37 B); values read back are the same numbers.
 */
export const hevySets = sqliteTable(
  "hevy_sets",
  {
    workoutKey: integer("workout_key").notNull(),
    exerciseIndex: integer("exercise_index").notNull(),
    index: integer("set_index").notNull(),
    type: untypedColumn("type").notNull(),
    weightKg: numeric("weight_kg", { mode: "number" }),
    reps: numeric("reps", { mode: "number" }),
    distanceMeters: numeric("distance_meters", { mode: "number" }),
    durationSeconds: numeric("duration_seconds", { mode: "number" }),
    rpe: numeric("rpe", { mode: "number" }),
    customMetric: numeric("custom_metric", { mode: "number" }),
  },
  (t) => [primaryKey({ columns: [t.workoutKey, t.exerciseIndex, t.index] })],
);

/** Built-in templates are shared (user_id = ''); custom ones belong to one user. */
export const SHARED_TEMPLATE_OWNER = "";

export const hevyExerciseTemplates = sqliteTable(
  "hevy_exercise_templates",
  {
    userId: text("user_id").notNull(),
    id: text("id").notNull(),
    title: text("title").notNull(),
    type: text("type").notNull(),
    primaryMuscleGroup: text("primary_muscle_group").notNull(),
    /** JSON array of muscle-group names. */
    secondaryMuscleGroups: text("secondary_muscle_groups").notNull().default("[]"),
    equipmentCategory: text("equipment_category"),
    isCustom: integer("is_custom", { mode: "boolean" }).notNull(),
    syncedAt: integer("synced_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.id] })],
);

export const syncRuns = sqliteTable(
  "sync_runs",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["backfill", "delta", "webhook"] }).notNull(),
    /** `superseded`: a newer run of the same backfill (resume, re-connect) took over before this one finished. */
    outcome: text("outcome", { enum: ["running", "ok", "failed", "needs_reconnect", "superseded"] }).notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    upserts: integer("upserts").notNull().default(0),
    deletes: integer("deletes").notNull().default(0),
    hevyRequests: integer("hevy_requests").notNull().default(0),
    d1RoundTrips: integer("d1_round_trips").notNull().default(0),
    error: text("error"),
  },
  (t) => [index("sync_runs_user_started_idx").on(t.userId, t.startedAt)],
);

/**
 * Current all-time PRs per exercise template and kind (SPEC §7, §10), kept in the same D1 batch as
 * every workout write and delete (src/services/metrics/pr-bests.ts), so reading them costs one
 * row per PR whatever the history. `kind`: 0 heaviest_weight, 1 best_e1rm, 2 most_reps,
 * 3 best_set_volume. The set that holds it: its workout's start, exercise and set index (the
 * tie-break order), and the workout.
 */
export const hevyPrs = sqliteTable(
  "hevy_prs",
  {
    userId: text("user_id").notNull(),
    templateId: text("template_id").notNull(),
    kind: integer("kind").notNull(),
    value: real("value").notNull(),
    weightKg: real("weight_kg"),
    reps: real("reps"),
    startTime: integer("start_time").notNull(),
    exerciseIndex: integer("exercise_index").notNull(),
    setIndex: integer("set_index").notNull(),
    workoutId: text("workout_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.templateId, t.kind] }), index("hevy_prs_user_workout_idx").on(t.userId, t.workoutId)],
);

/**
 * Scratch rows inside one write batch: the templates whose PRs a batch must recompute (a workout
 * that held one was edited or deleted). Filled and emptied by the same batch; always empty between.
 */
export const hevyPrDirty = sqliteTable(
  "hevy_pr_dirty",
  {
    userId: text("user_id").notNull(),
    templateId: text("template_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.templateId] })],
);

/**
 * Weekly rollups kept at write time (src/services/metrics/rollups.ts, SPEC §7/§12): one row per
 * Monday-start week in the zone `hevy_rollup_state` names, with that week's UTC bounds
 * [from_ms, to_ms) — SQLite knows no zones, so the Worker computes the bounds once and every
 * later write finds a stored workout's week by its start time. `dirty` marks, inside one write
 * batch, the weeks it must recompute; always 0 between batches. A week whose workouts all went
 * keeps its row with zeros.
 */
export const hevyWeeks = sqliteTable(
  "hevy_weeks",
  {
    userId: text("user_id").notNull(),
    weekStart: text("week_start").notNull(),
    fromMs: integer("from_ms").notNull(),
    toMs: integer("to_ms").notNull(),
    workouts: integer("workouts").notNull().default(0),
    /** Every logged set, warm-ups included. */
    sets: integer("sets").notNull().default(0),
    /** Σ of the week's per-workout volumes (non-warm-up weight × reps). */
    volumeKg: real("volume_kg").notNull().default(0),
    dirty: integer("dirty").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.weekStart] }),
    index("hevy_weeks_user_from_idx").on(t.userId, t.fromMs),
    index("hevy_weeks_dirty_idx").on(t.userId, t.weekStart).where(sql`dirty = 1`),
  ],
);

/**
 * Per week and exercise template: the non-warm-up sets and their Σ weight × reps, the input of the
 * muscle-group rollups. Kept per template, not per muscle group, so a template whose groups change
 * needs no rebuild: the groups are applied when read. `template_id` '' is an exercise without one.
 */
export const hevyWeekTemplates = sqliteTable(
  "hevy_week_templates",
  {
    userId: text("user_id").notNull(),
    weekStart: text("week_start").notNull(),
    templateId: text("template_id").notNull(),
    sets: integer("sets").notNull(),
    volumeKg: real("volume_kg").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.weekStart, t.templateId] })],
);

/**
 * A row means: the user's weekly rollups are complete in `zone`. Readers whose user is in another
 * zone (a change not yet rebuilt), or with no row (before the first rebuild), compute from the
 * workouts instead; writes keep the rollups only while the row names the zone they computed weeks in.
 */
export const hevyRollupState = sqliteTable("hevy_rollup_state", {
  userId: text("user_id").primaryKey(),
  zone: text("zone").notNull(),
});

/**
 * Hevy records that could not be stored (no id, unparseable times): the rest of their page is
 * stored, the connection view counts them, and later syncs fetch them again by id until Hevy
 * serves them well (src/services/sync/skipped.ts). `workout_key` is Hevy's id, or for a record
 * without one `unidentified:` and a digest of it.
 */
export const hevySkippedWorkouts = sqliteTable(
  "hevy_skipped_workouts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    workoutKey: text("workout_key").notNull(),
    reason: text("reason").notNull(),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.workoutKey] })],
);

/**
 * Page sessions, so that logging out ends one on the server: the sealed cookie names its row,
 * and a cookie whose row is gone (logout, expiry) opens nothing.
 */
export const pageSessions = sqliteTable(
  "page_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("page_sessions_user_idx").on(t.userId), index("page_sessions_expires_idx").on(t.expiresAt)],
);

export const OTHER_SOURCES = ["apple_health", "whoop", "oura", "strava"] as const;
export type OtherSource = (typeof OTHER_SOURCES)[number];

/** Workouts VitalTrends receives from the user's other sources (PUT /api/v1/sources/{source}/workouts). */
export const sourceWorkouts = sqliteTable(
  "source_workouts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    source: text("source", { enum: OTHER_SOURCES }).notNull(),
    externalId: text("external_id").notNull(),
    activityType: text("activity_type").notNull(),
    startTime: integer("start_time").notNull(),
    endTime: integer("end_time").notNull(),
    title: text("title"),
    caloriesKcal: real("calories_kcal"),
    avgHrBpm: real("avg_hr_bpm"),
    maxHrBpm: real("max_hr_bpm"),
    receivedAt: integer("received_at").notNull(),
    /**
     * Apple Health strength workouts only: the live Hevy workout this one is merged
     * into (SPEC §7) and that workout's start, recomputed in the same batch as every
     * write of either side (src/services/unified-match.ts). Null when unpaired.
     */
    pairedHevyId: text("paired_hevy_id"),
    pairedStartTime: integer("paired_start_time"),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.source, t.externalId] }),
    index("source_workouts_user_start_idx").on(t.userId, t.startTime),
    index("source_workouts_user_source_start_idx").on(t.userId, t.source, t.startTime),
    // Unified feed (src/services/unified.ts): unpaired rows in start order, with and
    // without a source filter; a Hevy workout's partner; merged rows in Hevy start order.
    index("source_workouts_user_paired_idx").on(t.userId, t.pairedHevyId, t.startTime),
    index("source_workouts_user_source_paired_idx").on(t.userId, t.source, t.pairedHevyId, t.startTime),
    index("source_workouts_user_paired_start_idx").on(t.userId, t.pairedStartTime, t.pairedHevyId),
  ],
);

export const RECOVERY_SOURCES = ["whoop", "oura"] as const;

/** Daily WHOOP recovery / Oura readiness scores, keyed by the wake-up day in the user's zone. */
export const dailyRecovery = sqliteTable(
  "daily_recovery",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    source: text("source", { enum: RECOVERY_SOURCES }).notNull(),
    /** YYYY-MM-DD */
    date: text("date").notNull(),
    score: real("score").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.source, t.date] })],
);

/** Per-set CSV exports: the job's state, and where the file is in R2. */
export const exports = sqliteTable(
  "exports",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["queued", "running", "done", "failed"] }).notNull(),
    rangeFrom: integer("range_from"),
    rangeTo: integer("range_to"),
    rowCount: integer("row_count").notNull().default(0),
    sizeBytes: integer("size_bytes").notNull().default(0),
    objectKey: text("object_key").notNull(),
    /** The R2 multipart upload in progress, so a failed or retried job can abort it. */
    uploadId: text("upload_id"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
  },
  (t) => [index("exports_user_created_idx").on(t.userId, t.createdAt)],
);

/**
 * Every message that reached the dead-letter queue (src/queue/dead-letter.ts): poison
 * bodies forwarded by the consumer, and jobs whose retries ran out. For operators —
 * users see their failures in last_error and sync_runs. No foreign key: a poison
 * body may name a user that does not exist.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    /** The dead-letter message's id: a redelivered dead letter is recorded once. */
    id: text("id").primaryKey(),
    reason: text("reason", { enum: ["invalid_message", "retries_exhausted"] }).notNull(),
    messageType: text("message_type"),
    userId: text("user_id"),
    /**
     * The body's shape as JSON — keys, numbers, and strings only as their length —
     * never its text: whatever a broken producer put in a message (a key, a token)
     * is not copied into D1. Cut at 4 KiB.
     */
    bodyShape: text("body_shape").notNull(),
    /** Why the body is not a message (the schema's complaints), for invalid_message. */
    error: text("error"),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("dead_letters_received_idx").on(t.receivedAt)],
);

/**
 * Outgoing webhooks (SPEC §15): endpoints an API consumer registered for their own events. Kept
 * in the user's shard next to the rows whose changes they announce. `events`: a JSON array of
 * event types. The secret (`whsec_…`) is an envelope of the keyring, like the Hevy key; after a
 * rotation the previous one keeps signing until `previous_secret_until`. `failing_since`: the
 * first failed attempt since the last success; an endpoint failing for 5 days gets `disabled_at`.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    url: text("url").notNull(),
    description: text("description"),
    events: text("events").notNull(),
    secretEnvelope: text("secret_envelope").notNull(),
    previousSecretEnvelope: text("previous_secret_envelope"),
    previousSecretUntil: integer("previous_secret_until"),
    createdAt: integer("created_at").notNull(),
    failingSince: integer("failing_since"),
    disabledAt: integer("disabled_at"),
    disabledReason: text("disabled_reason"),
  },
  (t) => [index("webhook_endpoints_user_idx").on(t.userId, t.createdAt)],
);

/**
 * The outbox: one row per announced change, written in the same D1 batch as the change itself
 * (src/services/webhook-events.ts), so a change is announced exactly when it happened. `data`: the
 * event's JSON data; the body sent is `{"type", "timestamp", "data"}` built from these columns, so
 * every retry sends the same bytes. `subject`: the workout id, for workout events.
 */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    type: text("type").notNull(),
    subject: text("subject"),
    data: text("data").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_events_user_created_idx").on(t.userId, t.createdAt)],
);

/**
 * One event to one endpoint: fanned out in the event's batch to the endpoints subscribed then.
 * `status`: pending (an attempt is due at `next_attempt_at`), delivered, failed (the schedule ran
 * out, or the endpoint was deleted or disabled).
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    userId: text("user_id").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    lastAttemptAt: integer("last_attempt_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.endpointId, t.eventId] }),
    index("webhook_deliveries_endpoint_created_idx").on(t.endpointId, t.createdAt),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
  ],
);

/**
 * Every attempt of a delivery: when, how long, the status code or the network error (never the
 * response body). `user_id` like every per-user table, so moving and clearing a user finds them.
 */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    attempt: integer("attempt").notNull(),
    userId: text("user_id").notNull(),
    at: integer("at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.eventId, t.attempt] })],
);

export const schema = {
  users,
  webhookRoutes,
  apiTokens,
  hevyConnections,
  hevyWorkouts,
  hevyUserKeys,
  hevyExercises,
  hevySets,
  hevyExerciseTemplates,
  syncRuns,
  hevySkippedWorkouts,
  hevyPrs,
  hevyPrDirty,
  hevyWeeks,
  hevyWeekTemplates,
  hevyRollupState,
  pageSessions,
  sourceWorkouts,
  dailyRecovery,
  exports,
  deadLetters,
  webhookEndpoints,
  webhookEvents,
  webhookDeliveries,
  webhookAttempts,
};

