CREATE TABLE "case_links" (
	"case_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"external_id" text NOT NULL,
	"linked_at" bigint NOT NULL,
	"seen" text,
	CONSTRAINT "case_links_case_id_channel_id_pk" PRIMARY KEY("case_id","channel_id")
);
--> statement-breakpoint
ALTER TABLE "case_links" ADD CONSTRAINT "case_links_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_links_channel_idx" ON "case_links" USING btree ("channel_id");