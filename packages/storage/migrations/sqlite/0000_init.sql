CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`case_id` text NOT NULL,
	`filename` text,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text,
	`blob_key` text,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `attachments_message_idx` ON `attachments` (`message_id`);--> statement-breakpoint
CREATE TABLE `case_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`case_id` text NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`actor` text NOT NULL,
	`public` integer NOT NULL,
	`data` text NOT NULL,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `case_events_case_idx` ON `case_events` (`case_id`);--> statement-breakpoint
CREATE TABLE `cases` (
	`id` text PRIMARY KEY NOT NULL,
	`tracking_code` text NOT NULL,
	`status` text NOT NULL,
	`office_id` text NOT NULL,
	`category` text,
	`urgency` text NOT NULL,
	`channel_id` text NOT NULL,
	`citizen_id` text NOT NULL,
	`citizen_name` text,
	`contact` text,
	`anonymous` integer NOT NULL,
	`summary` text NOT NULL,
	`place` text,
	`language` text NOT NULL,
	`deadline_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`resolved_at` integer,
	`rating` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cases_tracking_code_unique` ON `cases` (`tracking_code`);--> statement-breakpoint
CREATE INDEX `cases_status_idx` ON `cases` (`status`);--> statement-breakpoint
CREATE INDEX `cases_office_idx` ON `cases` (`office_id`);--> statement-breakpoint
CREATE INDEX `cases_sender_idx` ON `cases` (`channel_id`,`citizen_id`,`updated_at`);--> statement-breakpoint
CREATE INDEX `cases_created_idx` ON `cases` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `cases_deadline_idx` ON `cases` (`deadline_at`);--> statement-breakpoint
CREATE TABLE `inbox` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`external_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`payload` text,
	`case_id` text NOT NULL,
	`message_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_channel_external_uq` ON `inbox` (`channel_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`case_id` text NOT NULL,
	`direction` text NOT NULL,
	`channel_id` text NOT NULL,
	`external_id` text,
	`author` text NOT NULL,
	`subject` text,
	`text` text NOT NULL,
	`attachments` text NOT NULL,
	`delivery_status` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `messages_case_idx` ON `messages` (`case_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_external_idx` ON `messages` (`channel_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `offices` (
	`id` text PRIMARY KEY NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`case_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`provider_id` text,
	`idempotency_key` text NOT NULL,
	`payload` text NOT NULL,
	`lease_until` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_case_idx` ON `outbox` (`case_id`);