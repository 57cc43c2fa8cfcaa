CREATE TABLE `daily_recovery` (
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`date` text NOT NULL,
	`score` real NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `source`, `date`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `exports` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`range_from` integer,
	`range_to` integer,
	`row_count` integer DEFAULT 0 NOT NULL,
	`size_bytes` integer DEFAULT 0 NOT NULL,
	`object_key` text NOT NULL,
	`upload_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `exports_user_created_idx` ON `exports` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `source_workouts` (
	`user_id` text NOT NULL,
	`source` text NOT NULL,
	`external_id` text NOT NULL,
	`activity_type` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`title` text,
	`calories_kcal` real,
	`avg_hr_bpm` real,
	`max_hr_bpm` real,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `source`, `external_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `source_workouts_user_start_idx` ON `source_workouts` (`user_id`,`start_time`);--> statement-breakpoint
CREATE INDEX `source_workouts_user_source_start_idx` ON `source_workouts` (`user_id`,`source`,`start_time`);