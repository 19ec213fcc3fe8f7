CREATE TABLE `cluster_keys` (
	`case_id` text PRIMARY KEY NOT NULL,
	`category` text NOT NULL,
	`place_key` text,
	`lat` real,
	`lon` real,
	`created_at` integer NOT NULL,
	`text` text NOT NULL,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `cluster_keys_place_idx` ON `cluster_keys` (`category`,`place_key`,`created_at`) WHERE "cluster_keys"."place_key" is not null;--> statement-breakpoint
CREATE INDEX `cluster_keys_point_idx` ON `cluster_keys` (`category`,`lat`) WHERE "cluster_keys"."lat" is not null;--> statement-breakpoint
CREATE TABLE `clusters` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `cases` ADD `cluster_id` text;--> statement-breakpoint
CREATE INDEX `cases_cluster_idx` ON `cases` (`cluster_id`) WHERE "cases"."cluster_id" is not null;