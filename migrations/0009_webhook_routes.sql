CREATE TABLE `webhook_routes` (
	`secret_digest` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_routes_user_idx` ON `webhook_routes` (`user_id`);--> statement-breakpoint
-- Hand-added: the routes of the webhooks already subscribed (connections of users placed before
-- sharding live in this database). On a shard, still empty when this runs, it inserts nothing.
INSERT INTO `webhook_routes` (`secret_digest`, `user_id`, `created_at`)
SELECT `webhook_secret_digest`, `user_id`, `updated_at` FROM `hevy_connections` WHERE `webhook_secret_digest` IS NOT NULL;
