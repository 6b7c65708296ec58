CREATE TABLE "timeline_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"locale" text NOT NULL,
	"title" text,
	"label" text,
	"article_id" uuid,
	"url" text,
	"live_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "timeline_entries_title_check" CHECK ("timeline_entries"."article_id" is not null or "timeline_entries"."title" is not null),
	CONSTRAINT "timeline_entries_label_check" CHECK ("timeline_entries"."label" is null or "timeline_entries"."label" in ('exclusive', 'opinion', 'review', 'updated', 'breaking', 'analysis', 'interview'))
);
--> statement-breakpoint
ALTER TABLE "timeline_entries" ADD CONSTRAINT "timeline_entries_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "timeline_entries_occurred_idx" ON "timeline_entries" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "timeline_entries_locale_occurred_idx" ON "timeline_entries" USING btree ("locale","occurred_at","id");--> statement-breakpoint
CREATE INDEX "timeline_entries_article_idx" ON "timeline_entries" USING btree ("article_id");