CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`token_digest` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_digest_unique` ON `api_tokens` (`token_digest`);--> statement-breakpoint
CREATE INDEX `api_tokens_user_idx` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `hevy_connections` (
	`user_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`hevy_user_id` text NOT NULL,
	`hevy_user_name` text NOT NULL,
	`api_key_envelope` text NOT NULL,
	`webhook_status` text NOT NULL,
	`webhook_secret_digest` text,
	`webhook_secret_envelope` text,
	`webhook_auth_envelope` text,
	`backfill_run_id` text NOT NULL,
	`backfill_state` text NOT NULL,
	`backfill_pages_done` integer DEFAULT 0 NOT NULL,
	`backfill_page_count` integer,
	`backfill_workouts_synced` integer DEFAULT 0 NOT NULL,
	`backfill_started_at` integer,
	`events_cursor` integer,
	`last_sync_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `hevy_connections_webhook_secret_digest_unique` ON `hevy_connections` (`webhook_secret_digest`);--> statement-breakpoint
CREATE TABLE `hevy_exercise_templates` (
	`user_id` text NOT NULL,
	`id` text NOT NULL,
	`title` text NOT NULL,
	`type` text NOT NULL,
	`primary_muscle_group` text NOT NULL,
	`secondary_muscle_groups` text DEFAULT '[]' NOT NULL,
	`equipment_category` text,
	`is_custom` integer NOT NULL,
	`synced_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `hevy_exercises` (
	`user_id` text NOT NULL,
	`workout_id` text NOT NULL,
	`exercise_index` integer NOT NULL,
	`title` text NOT NULL,
	`notes` text,
	`exercise_template_id` text,
	`superset_id` integer,
	PRIMARY KEY(`user_id`, `workout_id`, `exercise_index`)
);
--> statement-breakpoint
CREATE INDEX `hevy_exercises_user_template_idx` ON `hevy_exercises` (`user_id`,`exercise_template_id`);--> statement-breakpoint
CREATE TABLE `hevy_sets` (
	`user_id` text NOT NULL,
	`workout_id` text NOT NULL,
	`exercise_index` integer NOT NULL,
	`set_index` integer NOT NULL,
	`type` text NOT NULL,
	`weight_kg` real,
	`reps` real,
	`distance_meters` real,
	`duration_seconds` real,
	`rpe` real,
	`custom_metric` real,
	PRIMARY KEY(`user_id`, `workout_id`, `exercise_index`, `set_index`)
);
--> statement-breakpoint
CREATE TABLE `hevy_workouts` (
	`user_id` text NOT NULL,
	`id` text NOT NULL,
	`title` text NOT NULL,
	`description` text,
	`routine_id` text,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`hevy_updated_at` integer NOT NULL,
	`hevy_created_at` integer,
	`deleted_at` integer,
	`volume_kg` real DEFAULT 0 NOT NULL,
	`set_count` integer DEFAULT 0 NOT NULL,
	`exercise_count` integer DEFAULT 0 NOT NULL,
	`synced_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `hevy_workouts_user_start_idx` ON `hevy_workouts` (`user_id`,`start_time`,`id`);--> statement-breakpoint
CREATE INDEX `hevy_workouts_user_updated_idx` ON `hevy_workouts` (`user_id`,`hevy_updated_at`);--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`outcome` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`upserts` integer DEFAULT 0 NOT NULL,
	`deletes` integer DEFAULT 0 NOT NULL,
	`hevy_requests` integer DEFAULT 0 NOT NULL,
	`d1_round_trips` integer DEFAULT 0 NOT NULL,
	`error` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sync_runs_user_started_idx` ON `sync_runs` (`user_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);