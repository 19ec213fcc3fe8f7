CREATE TABLE `timers` (
	`id` text PRIMARY KEY NOT NULL,
	`case_id` text NOT NULL,
	`kind` text NOT NULL,
	`point` text NOT NULL,
	`due_at` integer NOT NULL,
	`lease_until` integer,
	`version` integer NOT NULL,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `timers_due_idx` ON `timers` (`due_at`,`id`);--> statement-breakpoint
CREATE INDEX `timers_case_idx` ON `timers` (`case_id`);--> statement-breakpoint
ALTER TABLE `cases` ADD `accept_deadline_at` integer;--> statement-breakpoint
ALTER TABLE `cases` ADD `accepted_at` integer;--> statement-breakpoint
ALTER TABLE `cases` ADD `reopen_count` integer DEFAULT 0 NOT NULL;