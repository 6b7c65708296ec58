-- The values that grow with an article (its body and search vector, its revisions' snapshots, the
-- events and webhook bodies that carry it) are compressed with lz4 where the server was built with
-- it (docs/adr/0018-lz4-for-large-values.md): storing a 10 KB article body took PostgreSQL's
-- default, pglz, about five times as long, and every edit stores it three to four times. Only
-- values written from now on change; those already stored stay pglz and read as before. A server
-- without lz4 (the embedded database) keeps pglz.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE "articles" ALTER COLUMN "body" SET COMPRESSION lz4, ALTER COLUMN "search" SET COMPRESSION lz4;
    ALTER TABLE "article_revisions" ALTER COLUMN "snapshot" SET COMPRESSION lz4;
    ALTER TABLE "events" ALTER COLUMN "data" SET COMPRESSION lz4;
    ALTER TABLE "webhook_deliveries" ALTER COLUMN "body" SET COMPRESSION lz4;
  END IF;
END
$$;
