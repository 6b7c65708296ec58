CREATE TABLE "deletion_marks" (
	"kind" text PRIMARY KEY NOT NULL,
	"deleted_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "articles" ADD COLUMN "canonical_url" text;--> statement-breakpoint
CREATE INDEX "tags_updated_idx" ON "tags" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "articles_updated_idx" ON "articles" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "timeline_entries_updated_idx" ON "timeline_entries" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "timeline_entries_live_idx" ON "timeline_entries" USING btree ("live_at");