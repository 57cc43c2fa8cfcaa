ALTER TABLE `users` ADD `moving_to` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `move_cleanup` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `move_id` text;--> statement-breakpoint
ALTER TABLE `users` ADD `move_lease_until` integer;