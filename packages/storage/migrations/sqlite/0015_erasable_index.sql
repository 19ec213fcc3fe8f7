DROP INDEX `cases_status_idx`;--> statement-breakpoint
CREATE INDEX `cases_erasable_idx` ON `cases` (`updated_at`,`id`) WHERE "cases"."status" = 'closed' and "cases"."erased_at" is null;