CREATE TABLE `case_links` (
	`case_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`external_id` text NOT NULL,
	`linked_at` integer NOT NULL,
	`seen` text,
	PRIMARY KEY(`case_id`, `channel_id`),
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `case_links_channel_idx` ON `case_links` (`channel_id`);