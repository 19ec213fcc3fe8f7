DROP INDEX `cluster_keys_place_idx`;--> statement-breakpoint
DROP INDEX `cluster_keys_point_idx`;--> statement-breakpoint
ALTER TABLE `cluster_keys` ADD `open` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `cluster_keys` ADD `cluster_id` text;--> statement-breakpoint
CREATE INDEX `cluster_keys_open_place_idx` ON `cluster_keys` (`category`,`place_key`,`open`,`created_at`,`case_id`,`cluster_id`,`lat`,`lon`,`text`) WHERE "cluster_keys"."place_key" is not null;--> statement-breakpoint
CREATE INDEX `cluster_keys_open_point_idx` ON `cluster_keys` (`category`,`open`,`lat`) WHERE "cluster_keys"."lat" is not null;