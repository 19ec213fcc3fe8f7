CREATE TABLE `case_stats` (
	`case_id` text PRIMARY KEY NOT NULL,
	`office_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`category` text,
	`place_code` text,
	`status` text NOT NULL,
	`received_at` integer NOT NULL,
	`deadline_at` integer,
	`accept_deadline_at` integer,
	`accepted_at` integer,
	`first_resolved_at` integer,
	`resolved_at` integer,
	`resolved_on_time` integer,
	`closed_at` integer,
	`rating` integer,
	`satisfied` integer,
	`reopen_count` integer NOT NULL,
	FOREIGN KEY (`case_id`) REFERENCES `cases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `case_stats_office_cover_idx` ON `case_stats` (`office_id`,`received_at`,`status`,`deadline_at`,`accept_deadline_at`,`accepted_at`,`first_resolved_at`,`resolved_at`,`resolved_on_time`,`rating`,`satisfied`,`reopen_count`,`channel_id`,`category`,`place_code`);--> statement-breakpoint
CREATE INDEX `case_stats_place_idx` ON `case_stats` (`place_code`,`received_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`case_id` text,
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
INSERT INTO `__new_messages`("id", "case_id", "direction", "channel_id", "external_id", "author", "subject", "text", "attachments", "delivery_status", "created_at") SELECT "id", "case_id", "direction", "channel_id", "external_id", "author", "subject", "text", "attachments", "delivery_status", "created_at" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `messages_case_idx` ON `messages` (`case_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_external_idx` ON `messages` (`channel_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `__new_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`case_id` text,
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
INSERT INTO `__new_outbox`("id", "message_id", "case_id", "channel_id", "status", "attempts", "next_attempt_at", "last_error", "provider_id", "idempotency_key", "payload", "lease_until", "created_at", "updated_at") SELECT "id", "message_id", "case_id", "channel_id", "status", "attempts", "next_attempt_at", "last_error", "provider_id", "idempotency_key", "payload", "lease_until", "created_at", "updated_at" FROM `outbox`;--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
ALTER TABLE `__new_outbox` RENAME TO `outbox`;--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_case_idx` ON `outbox` (`case_id`);--> statement-breakpoint
ALTER TABLE `cases` ADD `place_code` text;--> statement-breakpoint
ALTER TABLE `cases` ADD `place_name` text;--> statement-breakpoint
CREATE INDEX `cases_place_idx` ON `cases` (`place_code`,`created_at`);