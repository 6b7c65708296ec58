CREATE TABLE "event_log_state" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"swept_through" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"public" boolean NOT NULL,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "events_occurred_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "events_public_idx" ON "events" USING btree ("id") WHERE "events"."public";--> statement-breakpoint
ALTER TABLE "event_log_state" ADD CONSTRAINT "event_log_state_singleton_check" CHECK ("singleton");--> statement-breakpoint
INSERT INTO "event_log_state" ("singleton", "swept_through") VALUES (true, 0);--> statement-breakpoint
-- Commit order (docs/adr/0012-event-log-commit-order.md): before any row of an insert is numbered,
-- the inserting transaction takes this advisory lock and holds it until it ends, so the next
-- writer draws its ids only after this one has committed (or rolled back).
CREATE FUNCTION "events_serialise_appends"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7312025001);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "events_serialise_appends" BEFORE INSERT ON "events" FOR EACH STATEMENT EXECUTE FUNCTION "events_serialise_appends"();
