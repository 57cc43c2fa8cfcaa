ALTER TABLE `source_workouts` ADD `paired_hevy_id` text;--> statement-breakpoint
ALTER TABLE `source_workouts` ADD `paired_start_time` integer;--> statement-breakpoint
CREATE INDEX `source_workouts_user_paired_idx` ON `source_workouts` (`user_id`,`paired_hevy_id`,`start_time`);--> statement-breakpoint
CREATE INDEX `source_workouts_user_source_paired_idx` ON `source_workouts` (`user_id`,`source`,`paired_hevy_id`,`start_time`);--> statement-breakpoint
CREATE INDEX `source_workouts_user_paired_start_idx` ON `source_workouts` (`user_id`,`paired_start_time`,`paired_hevy_id`);--> statement-breakpoint
-- Added by hand (drizzle-kit does not model triggers). Hevy rows are hard-deleted only
-- wholesale (DELETE /connections/hevy?purge=true, or connecting another Hevy account):
-- their Apple Health partners become unpaired rows of the unified feed again.
-- Tombstones (deleted_at) re-pair through src/services/unified-match.ts instead.
CREATE TRIGGER `hevy_workouts_unpair_on_delete` AFTER DELETE ON `hevy_workouts` FOR EACH ROW
BEGIN
  UPDATE `source_workouts` SET `paired_hevy_id` = NULL, `paired_start_time` = NULL
  WHERE `user_id` = OLD.`user_id` AND `paired_hevy_id` = OLD.`id`;
END;
