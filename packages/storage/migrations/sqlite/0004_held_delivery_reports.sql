CREATE TABLE `held_delivery_reports` (
	`channel_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`status` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `provider_id`)
);
--> statement-breakpoint
CREATE INDEX `held_delivery_reports_received_idx` ON `held_delivery_reports` (`received_at`);