ALTER TABLE `users` ADD `moving_to` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `move_cleanup` integer;