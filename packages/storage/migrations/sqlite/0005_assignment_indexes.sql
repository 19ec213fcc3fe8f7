DROP INDEX `cases_office_idx`;--> statement-breakpoint
CREATE INDEX `cases_office_load_idx` ON `cases` (`office_id`,`status`,`assignee_id`);--> statement-breakpoint
CREATE INDEX `cases_office_assigned_idx` ON `cases` (`office_id`,`assigned_at`,`id`) WHERE "cases"."assigned_at" is not null;