CREATE TABLE "office_settings" (
	"office_id" text PRIMARY KEY NOT NULL,
	"data" json NOT NULL,
	"updated_at" bigint NOT NULL
);
