CREATE TABLE `staff_duty` (
	`staff_id` text PRIMARY KEY NOT NULL,
	`on_duty` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `cases` ADD `assignee_id` text;--> statement-breakpoint
ALTER TABLE `cases` ADD `assigned_at` integer;