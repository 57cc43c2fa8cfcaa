CREATE TABLE `hevy_skipped_workouts` (
	`user_id` text NOT NULL,
	`workout_key` text NOT NULL,
	`reason` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `workout_key`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `page_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `page_sessions_user_idx` ON `page_sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `page_sessions_expires_idx` ON `page_sessions` (`expires_at`);--> statement-breakpoint
-- Hand-edited: D1 runs a migration as one transaction, where foreign_keys cannot be switched
-- off; it documents defer_foreign_keys instead. (No table references hevy_connections.)
PRAGMA defer_foreign_keys = on;--> statement-breakpoint
CREATE TABLE `__new_hevy_connections` (
	`user_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`hevy_user_id` text NOT NULL,
	`hevy_user_name` text NOT NULL,
	`api_key_envelope` text,
	`key_epoch` text,
	`hevy_paused_until` integer,
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
	`backfill_reconcile` integer DEFAULT false NOT NULL,
	`backfill_pass` integer DEFAULT 1 NOT NULL,
	`walk_started_at` integer,
	`events_cursor` integer,
	`last_sync_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Hand-edited: drizzle-kit selected the new columns from the old table. Every existing
-- connection gets a key epoch of its own; jobs read it when they start, so queued ones go on.
INSERT INTO `__new_hevy_connections`("user_id", "status", "hevy_user_id", "hevy_user_name", "api_key_envelope", "webhook_status", "webhook_secret_digest", "webhook_secret_envelope", "webhook_auth_envelope", "backfill_run_id", "backfill_state", "backfill_pages_done", "backfill_page_count", "backfill_workouts_synced", "backfill_started_at", "events_cursor", "last_sync_at", "last_error", "created_at", "updated_at", "key_epoch") SELECT "user_id", "status", "hevy_user_id", "hevy_user_name", "api_key_envelope", "webhook_status", "webhook_secret_digest", "webhook_secret_envelope", "webhook_auth_envelope", "backfill_run_id", "backfill_state", "backfill_pages_done", "backfill_page_count", "backfill_workouts_synced", "backfill_started_at", "events_cursor", "last_sync_at", "last_error", "created_at", "updated_at", lower(hex(randomblob(16))) FROM `hevy_connections`;--> statement-breakpoint
DROP TABLE `hevy_connections`;--> statement-breakpoint
ALTER TABLE `__new_hevy_connections` RENAME TO `hevy_connections`;--> statement-breakpoint
PRAGMA defer_foreign_keys = off;--> statement-breakpoint
CREATE UNIQUE INDEX `hevy_connections_webhook_secret_digest_unique` ON `hevy_connections` (`webhook_secret_digest`);