CREATE INDEX "tags_slug_idx" ON "tags" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "article_slug_redirects_slug_idx" ON "article_slug_redirects" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "articles_slug_idx" ON "articles" USING btree ("slug") WHERE "articles"."deleted_at" is null;