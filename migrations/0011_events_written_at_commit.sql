-- A write's events are written once, numbered, while its transaction commits
-- (docs/adr/0017-events-written-at-commit.md). Until now they were inserted unnumbered and a
-- deferred trigger numbered each row at commit: a second version of every event row, with its
-- index entries, and a dead row for vacuum.
-- A write hands its events to its own transaction in a transaction-local setting; the first
-- append of the transaction also inserts one row here, whose deferred trigger writes them at commit.
-- Unlogged: the rows live only until their own transaction commits.
CREATE UNLOGGED TABLE "event_commit_hooks" (
  "id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY
);--> statement-breakpoint
-- Appends events (a JSON array of {type, public, data}) to the current transaction's change log
-- writes. Several appends in one transaction keep their order; a rolled-back savepoint takes its
-- appends with it (settings and rows both follow subtransactions).
CREATE FUNCTION "events_append"(drafts jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  pending text := current_setting('lede.pending_events', true);
BEGIN
  IF pending IS NULL OR pending = '' THEN
    PERFORM set_config('lede.pending_events', drafts::text, true);
    INSERT INTO "event_commit_hooks" DEFAULT VALUES;
  ELSE
    PERFORM set_config('lede.pending_events', (pending::jsonb || drafts)::text, true);
  END IF;
END;
$$;--> statement-breakpoint
-- Runs while the transaction commits. The lock is held until the commit is visible, so the next
-- committer numbers its events only after that: ids grow in the order readers can see them.
CREATE FUNCTION "events_write_at_commit"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7312025001);
  INSERT INTO "events" ("id", "type", "public", "data")
    SELECT nextval('events_commit_order'), e.draft->>'type', (e.draft->>'public')::boolean, e.draft->'data'
    FROM jsonb_array_elements(current_setting('lede.pending_events')::jsonb) WITH ORDINALITY AS e(draft, n)
    ORDER BY e.n;
  DELETE FROM "event_commit_hooks" WHERE "id" = NEW."id";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "events_write_at_commit" AFTER INSERT ON "event_commit_hooks"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "events_write_at_commit"();--> statement-breakpoint
-- A row inserted into events directly (a process of the previous version during a rolling
-- upgrade, or SQL by hand) is still numbered at commit as before; rows written above already
-- have their id and skip it.
DROP TRIGGER "events_number_at_commit" ON "events";--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "events_number_at_commit" AFTER INSERT ON "events"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW."id" IS NULL) EXECUTE FUNCTION "events_number_at_commit"();
