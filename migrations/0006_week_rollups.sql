CREATE TABLE `hevy_rollup_state` (
	`user_id` text PRIMARY KEY NOT NULL,
	`zone` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hevy_week_templates` (
	`user_id` text NOT NULL,
	`week_start` text NOT NULL,
	`template_id` text NOT NULL,
	`sets` integer NOT NULL,
	`volume_kg` real NOT NULL,
	PRIMARY KEY(`user_id`, `week_start`, `template_id`)
);
--> statement-breakpoint
CREATE TABLE `hevy_weeks` (
	`user_id` text NOT NULL,
	`week_start` text NOT NULL,
	`from_ms` integer NOT NULL,
	`to_ms` integer NOT NULL,
	`workouts` integer DEFAULT 0 NOT NULL,
	`sets` integer DEFAULT 0 NOT NULL,
	`volume_kg` real DEFAULT 0 NOT NULL,
	`dirty` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`user_id`, `week_start`)
);
--> statement-breakpoint
CREATE INDEX `hevy_weeks_user_from_idx` ON `hevy_weeks` (`user_id`,`from_ms`);--> statement-breakpoint
CREATE INDEX `hevy_weeks_dirty_idx` ON `hevy_weeks` (`user_id`,`week_start`) WHERE dirty = 1;--> statement-breakpoint
-- Hand-added: a user with no live Hevy workout has complete (empty) rollups in their zone. Everyone
-- else's weeks need the Worker (SQLite knows no time zones): the hourly cron queues a rebuild for
-- each (src/services/metrics/rollup-rebuild.ts); until it has run, reads compute from the workouts.
INSERT INTO `hevy_rollup_state` (`user_id`, `zone`)
SELECT u.id, u.timezone FROM users u
WHERE NOT EXISTS (SELECT 1 FROM hevy_workouts w WHERE w.user_id = u.id AND w.deleted_at IS NULL);
