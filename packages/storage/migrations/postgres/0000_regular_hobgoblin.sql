CREATE TABLE "account_events" (
	"id" bigint PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"subject" text NOT NULL,
	"data" json NOT NULL,
	"prev_hash" text,
	"hash" text
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"name" text NOT NULL,
	"user_id" text,
	"office_id" text,
	"scopes" json NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	CONSTRAINT "api_tokens_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "assignment_picks" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "assignment_picks_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"office_id" text NOT NULL,
	"staff_id" text NOT NULL,
	"case_id" text NOT NULL,
	"at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "attachments" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"case_id" text NOT NULL,
	"filename" text,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"sha256" text,
	"blob_key" text
);
--> statement-breakpoint
CREATE TABLE "case_events" (
	"id" bigint PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"at" bigint NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"public" boolean NOT NULL,
	"data" json NOT NULL,
	"prev_hash" text,
	"hash" text
);
--> statement-breakpoint
CREATE TABLE "case_stats" (
	"case_id" text PRIMARY KEY NOT NULL,
	"office_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"category" text,
	"place_code" text,
	"status" text NOT NULL,
	"received_at" bigint NOT NULL,
	"deadline_at" bigint,
	"accept_deadline_at" bigint,
	"accepted_at" bigint,
	"first_resolved_at" bigint,
	"resolved_at" bigint,
	"resolved_on_time" boolean,
	"closed_at" bigint,
	"rating" integer,
	"satisfied" boolean,
	"reopen_count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" text PRIMARY KEY NOT NULL,
	"tracking_code" text NOT NULL,
	"status" text NOT NULL,
	"office_id" text NOT NULL,
	"category" text,
	"urgency" text NOT NULL,
	"channel_id" text NOT NULL,
	"citizen_id" text NOT NULL,
	"citizen_name" text,
	"contact" json,
	"anonymous" boolean NOT NULL,
	"summary" text NOT NULL,
	"place" text,
	"place_code" text,
	"place_name" text,
	"language" text NOT NULL,
	"deadline_at" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"resolved_at" bigint,
	"rating" integer,
	"assignee_id" text,
	"assigned_at" bigint,
	"erased_at" bigint,
	"cluster_id" text,
	"accept_deadline_at" bigint,
	"accepted_at" bigint,
	"reopen_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "cases_tracking_code_unique" UNIQUE("tracking_code")
);
--> statement-breakpoint
CREATE TABLE "cluster_keys" (
	"case_id" text PRIMARY KEY NOT NULL,
	"category" text NOT NULL,
	"place_key" text,
	"lat" double precision,
	"lon" double precision,
	"created_at" bigint NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clusters" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "held_delivery_reports" (
	"channel_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"status" text NOT NULL,
	"received_at" bigint NOT NULL,
	CONSTRAINT "held_delivery_reports_channel_id_provider_id_pk" PRIMARY KEY("channel_id","provider_id")
);
--> statement-breakpoint
CREATE TABLE "inbox" (
	"id" text PRIMARY KEY NOT NULL,
	"channel_id" text NOT NULL,
	"external_id" text NOT NULL,
	"received_at" bigint NOT NULL,
	"payload" json,
	"case_id" text NOT NULL,
	"message_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "messages_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"case_id" text,
	"direction" text NOT NULL,
	"channel_id" text NOT NULL,
	"external_id" text,
	"author" text NOT NULL,
	"subject" text,
	"text" text NOT NULL,
	"attachments" json NOT NULL,
	"delivery_status" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offices" (
	"id" text PRIMARY KEY NOT NULL,
	"data" json NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opt_outs" (
	"channel_id" text NOT NULL,
	"citizen_id" text NOT NULL,
	"opted_out_at" bigint NOT NULL,
	CONSTRAINT "opt_outs_channel_id_citizen_id_pk" PRIMARY KEY("channel_id","citizen_id")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"case_id" text,
	"channel_id" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"last_error" text,
	"provider_id" text,
	"idempotency_key" text NOT NULL,
	"payload" json NOT NULL,
	"lease_until" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"csrf_token" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff_duty" (
	"staff_id" text PRIMARY KEY NOT NULL,
	"on_duty" boolean NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "timers" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"kind" text NOT NULL,
	"point" text NOT NULL,
	"due_at" bigint NOT NULL,
	"lease_until" bigint,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcriptions" (
	"message_id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"blob_key" text NOT NULL,
	"content_type" text NOT NULL,
	"language" text,
	"attempts" integer NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"lease_until" bigint,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"login" text NOT NULL,
	"name" text NOT NULL,
	"office_id" text NOT NULL,
	"role" text NOT NULL,
	"password_hash" text NOT NULL,
	"disabled" boolean NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_events" ADD CONSTRAINT "case_events_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_stats" ADD CONSTRAINT "case_stats_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_keys" ADD CONSTRAINT "cluster_keys_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "timers" ADD CONSTRAINT "timers_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transcriptions" ADD CONSTRAINT "transcriptions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transcriptions" ADD CONSTRAINT "transcriptions_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assignment_picks_office_idx" ON "assignment_picks" USING btree ("office_id","seq");--> statement-breakpoint
CREATE INDEX "attachments_message_idx" ON "attachments" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "case_events_case_idx" ON "case_events" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "case_stats_office_idx" ON "case_stats" USING btree ("office_id","received_at");--> statement-breakpoint
CREATE INDEX "case_stats_place_idx" ON "case_stats" USING btree ("place_code","received_at");--> statement-breakpoint
CREATE INDEX "cases_status_idx" ON "cases" USING btree ("status");--> statement-breakpoint
CREATE INDEX "cases_office_load_idx" ON "cases" USING btree ("office_id","status","assignee_id");--> statement-breakpoint
CREATE INDEX "cases_office_assigned_idx" ON "cases" USING btree ("office_id","assigned_at","id") WHERE "cases"."assigned_at" is not null;--> statement-breakpoint
CREATE INDEX "cases_sender_idx" ON "cases" USING btree ("channel_id","citizen_id","updated_at");--> statement-breakpoint
CREATE INDEX "cases_created_idx" ON "cases" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "cases_deadline_idx" ON "cases" USING btree ("deadline_at");--> statement-breakpoint
CREATE INDEX "cases_place_idx" ON "cases" USING btree ("place_code","created_at");--> statement-breakpoint
CREATE INDEX "cases_office_created_idx" ON "cases" USING btree ("office_id","created_at","id");--> statement-breakpoint
CREATE INDEX "cases_office_status_created_idx" ON "cases" USING btree ("office_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "cases_cluster_idx" ON "cases" USING btree ("cluster_id") WHERE "cases"."cluster_id" is not null;--> statement-breakpoint
CREATE INDEX "cluster_keys_place_idx" ON "cluster_keys" USING btree ("category","place_key","created_at") WHERE "cluster_keys"."place_key" is not null;--> statement-breakpoint
CREATE INDEX "cluster_keys_point_idx" ON "cluster_keys" USING btree ("category","lat") WHERE "cluster_keys"."lat" is not null;--> statement-breakpoint
CREATE INDEX "held_delivery_reports_received_idx" ON "held_delivery_reports" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_channel_external_uq" ON "inbox" USING btree ("channel_id","external_id");--> statement-breakpoint
CREATE INDEX "messages_case_idx" ON "messages" USING btree ("case_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_external_idx" ON "messages" USING btree ("channel_id","external_id");--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "outbox_case_idx" ON "outbox" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "timers_due_idx" ON "timers" USING btree ("due_at","id");--> statement-breakpoint
CREATE INDEX "timers_case_idx" ON "timers" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "transcriptions_due_idx" ON "transcriptions" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_login_uq" ON "users" USING btree (lower("login"));--> statement-breakpoint
CREATE INDEX "users_office_idx" ON "users" USING btree ("office_id");