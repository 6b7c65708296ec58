-- Events are numbered while their transaction commits, not when they are inserted
-- (docs/adr/0012-event-log-commit-order.md): the commit-order lock is then held only through the
-- commit, never while the application is still to send COMMIT.
DROP TRIGGER "events_serialise_appends" ON "events";--> statement-breakpoint
DROP FUNCTION "events_serialise_appends"();--> statement-breakpoint
DROP INDEX "events_public_idx";--> statement-breakpoint
ALTER TABLE "events" RENAME COLUMN "id" TO "row_id";--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "id" bigint;--> statement-breakpoint
UPDATE "events" SET "id" = "row_id";--> statement-breakpoint
CREATE UNIQUE INDEX "events_id_key" ON "events" USING btree ("id");--> statement-breakpoint
CREATE INDEX "events_public_idx" ON "events" USING btree ("id") WHERE "events"."public";--> statement-breakpoint
CREATE SEQUENCE "events_commit_order";--> statement-breakpoint
SELECT setval('events_commit_order', coalesce((SELECT max("id") FROM "events"), 0) + 1, false);--> statement-breakpoint
-- Fires at commit for each row the transaction inserted, in insertion order. The first takes the
-- lock, which the transaction holds until its commit is visible: the next committer numbers its
-- events only after that, so ids grow in the order readers can see them.
CREATE FUNCTION "events_number_at_commit"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7312025001);
  UPDATE "events" SET "id" = nextval('events_commit_order') WHERE "row_id" = NEW."row_id";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "events_number_at_commit" AFTER INSERT ON "events"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "events_number_at_commit"();
