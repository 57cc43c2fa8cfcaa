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
-- Hand-added: every user's current PRs from the rows already stored, as
-- src/services/metrics/pr-bests.ts (markedPrWinners) computes them for the templates it marks.
INSERT INTO `hevy_prs` (`user_id`, `template_id`, `kind`, `value`, `weight_kg`, `reps`, `start_time`, `exercise_index`, `set_index`, `workout_id`)
WITH combos AS MATERIALIZED (
  SELECT e.user_id AS uid, e.exercise_template_id AS tid, s.weight_kg AS wt, s.reps AS reps,
    min(CAST(w.start_time AS INTEGER) * 1000000 + s.exercise_index * 1000 + s.set_index) AS k
  FROM hevy_exercises e
  JOIN hevy_workouts w ON w.user_id = e.user_id AND w.id = e.workout_id
  JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
  WHERE e.exercise_template_id IS NOT NULL AND w.deleted_at IS NULL
    AND s.type <> 'warmup' AND (s.weight_kg > 0 OR s.reps >= 1)
  GROUP BY 1, 2, 3, 4
), candidates AS (
  SELECT k.kind,
    CASE k.kind WHEN 0 THEN c.wt WHEN 1 THEN (CASE WHEN c.reps = 1 THEN c.wt ELSE c.wt * (1 + c.reps / 30.0) END)
      WHEN 2 THEN c.reps ELSE c.wt * c.reps END AS value, c.*
  FROM combos c CROSS JOIN (SELECT 0 AS kind UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
  WHERE CASE k.kind WHEN 0 THEN c.wt > 0 WHEN 1 THEN c.wt > 0 AND c.reps >= 1 AND c.reps <= 12
    WHEN 2 THEN c.reps >= 1 ELSE c.wt > 0 AND c.reps >= 1 END
), ranked AS (
  SELECT *, rank() OVER (PARTITION BY uid, tid, kind ORDER BY value DESC, k) AS rn FROM candidates
), tops AS (
  SELECT r.*, (SELECT min(w.id) FROM hevy_workouts w
      JOIN hevy_exercises e ON e.user_id = w.user_id AND e.workout_id = w.id AND e.exercise_index = (r.k / 1000) % 1000
      JOIN hevy_sets s ON s.user_id = e.user_id AND s.workout_id = e.workout_id AND s.exercise_index = e.exercise_index
        AND s.set_index = r.k % 1000
      WHERE w.user_id = r.uid AND w.start_time = r.k / 1000000 AND w.deleted_at IS NULL
        AND e.exercise_template_id = r.tid AND s.type <> 'warmup' AND s.weight_kg IS r.wt AND s.reps IS r.reps) AS wid
  FROM ranked r WHERE rn = 1
), winners AS (
  SELECT *, row_number() OVER (PARTITION BY uid, tid, kind ORDER BY wid) AS wn FROM tops
)
SELECT x.uid, x.tid, x.kind, x.value, x.wt, x.reps, x.k / 1000000, (x.k / 1000) % 1000, x.k % 1000, x.wid
FROM winners x WHERE wn = 1;
