CREATE TABLE `hevy_pr_dirty` (
	`user_id` text NOT NULL,
	`template_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `template_id`)
);
--> statement-breakpoint
CREATE TABLE `hevy_prs` (
	`user_id` text NOT NULL,
	`template_id` text NOT NULL,
	`kind` integer NOT NULL,
	`value` real NOT NULL,
	`weight_kg` real,
	`reps` real,
	`start_time` integer NOT NULL,
	`exercise_index` integer NOT NULL,
	`set_index` integer NOT NULL,
	`workout_id` text NOT NULL,
	PRIMARY KEY(`user_id`, `template_id`, `kind`)
);
--> statement-breakpoint
CREATE INDEX `hevy_prs_user_workout_idx` ON `hevy_prs` (`user_id`,`workout_id`);--> statement-breakpoint
-- Hand-added: every user's current PRs from the rows already stored, ranked as
-- src/services/metrics/pr-bests.ts (bestInto) ranks them for one user.
INSERT INTO `hevy_prs` (`user_id`, `template_id`, `kind`, `value`, `weight_kg`, `reps`, `start_time`, `exercise_index`, `set_index`, `workout_id`)
WITH c AS MATERIALIZED (
  SELECT e.user_id AS uid, e.exercise_template_id AS tid, s.weight_kg AS wt, s.reps AS reps, w.start_time AS st,
    e.exercise_index AS ei, s.set_index AS si, w.id AS w
  FROM hevy_exercises e
  JOIN hevy_workouts w ON w.user_id = e.user_id AND w.id = e.workout_id
  JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
  WHERE e.exercise_template_id IS NOT NULL AND w.deleted_at IS NULL
    AND s.type <> 'warmup' AND (s.weight_kg > 0 OR s.reps >= 1)
), best AS (
  SELECT c.*, k.kind,
    CASE k.kind WHEN 0 THEN c.wt WHEN 1 THEN (CASE WHEN c.reps = 1 THEN c.wt ELSE c.wt * (1 + c.reps / 30.0) END)
      WHEN 2 THEN c.reps ELSE c.wt * c.reps END AS value,
    row_number() OVER (PARTITION BY c.uid, c.tid, k.kind ORDER BY
      CASE k.kind WHEN 0 THEN c.wt WHEN 1 THEN (CASE WHEN c.reps = 1 THEN c.wt ELSE c.wt * (1 + c.reps / 30.0) END)
        WHEN 2 THEN c.reps ELSE c.wt * c.reps END DESC, c.st, c.ei, c.si, c.w) AS rn
  FROM c CROSS JOIN (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
  WHERE CASE k.kind WHEN 0 THEN c.wt > 0 WHEN 1 THEN c.wt > 0 AND c.reps >= 1 AND c.reps <= 12
    WHEN 2 THEN c.reps >= 1 ELSE c.wt > 0 AND c.reps >= 1 END
)
SELECT uid, tid, kind, value, wt, reps, st, ei, si, w FROM best WHERE rn = 1;
