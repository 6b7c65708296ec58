import { count, inArray, sql } from 'drizzle-orm';
import { contentChanges, EVERYTHING, newInstanceId } from '../../cache/content-changes.js';
import type { Database } from '../database.js';
import { articles } from '../schema/articles.js';
import { tags } from '../schema/tags.js';
import { ArticleCreate } from '../../modules/articles/articles.schemas.js';
import * as articlesRepo from '../../modules/articles/articles.repository.js';
import type { ArticleUrls } from '../../modules/articles/article-url.js';
import { articlesService } from '../../modules/articles/articles.service.js';
import { EDITORIAL } from '../../modules/articles/visibility.js';
import { SEED_ARTICLE, SEED_TIMELINE } from './seed-article.js';
import { timelineEntries } from '../schema/timeline.js';

const DEMO_AUTHOR = { keyId: null, name: 'Demo content' };
/** Advisory lock key of demo loading (the event log uses 7312025001, the scheduler 7312025002). */
const DEMO_LOCK_KEY = 7312025003;

export interface DemoResult {
  articlesCreated: number;
  timelineEntriesCreated: number;
}

export async function isEmptyDatabase(db: Database): Promise<boolean> {
  const [articleRows] = await db.select({ n: count() }).from(articles);
  const [tagRows] = await db.select({ n: count() }).from(tags);
  return (articleRows?.n ?? 0) === 0 && (tagRows?.n ?? 0) === 0;
}

/**
 * Loads the seed page's article through the same service and validation as the API, so demo
 * content is exactly what an editor could have written. Content already present is left alone.
 */
/** `urls`: the site's addresses, which the articles' events carry (as answers do). */
export async function loadDemoContent(db: Database, defaults: { locale: string; urls?: ArticleUrls }): Promise<DemoResult> {
  // Running servers on the same database (`npm run demo` beside them) drop their cached pages.
  const changes = contentChanges(db, newInstanceId(), () => {});
  return changes.write(async (tx, changed) => {
    // Several processes starting on one empty database all load it: one at a time, so each
    // after the first finds the content there (each statement reads what committed before it).
    await tx.execute(sql`select pg_advisory_xact_lock(${DEMO_LOCK_KEY})`);
    changed(EVERYTHING);
    return {
      articlesCreated: await loadSeedArticle(tx, defaults),
      timelineEntriesCreated: await loadSeedTimeline(tx),
    };
  });
}

/** The seed page's 40 latest-news lines, as flash entries; lines already there are skipped. */
async function loadSeedTimeline(db: Database): Promise<number> {
  const present = await db
    .select({ occurredAt: timelineEntries.occurredAt, title: timelineEntries.title })
    .from(timelineEntries)
    .where(inArray(timelineEntries.title, SEED_TIMELINE.entries.map((entry) => entry.title)));
  const seen = new Set(present.map((row) => `${row.occurredAt.toISOString()} ${row.title}`));
  const missing = SEED_TIMELINE.entries.filter((entry) => !seen.has(`${entry.occurredAt} ${entry.title}`));
  if (missing.length === 0) return 0;
  await db.insert(timelineEntries).values(
    missing.map((entry) => ({
      occurredAt: new Date(entry.occurredAt),
      title: entry.title,
      label: entry.label ?? null,
      locale: SEED_TIMELINE.locale,
      liveAt: new Date(entry.occurredAt),
    })),
  );
  return missing.length;
}

async function loadSeedArticle(db: Database, defaults: { locale: string; urls?: ArticleUrls }): Promise<number> {
  const service = articlesService(db, contentChanges(db, newInstanceId(), () => {}), defaults);
  const { publishedAt, ...fields } = SEED_ARTICLE;
  const input = ArticleCreate.parse(fields);
  const slug = input.slug ?? undefined;
  const existing = slug
    ? await articlesRepo.findArticle(db, articlesRepo.bySlug(slug, input.locale ?? defaults.locale), EDITORIAL)
    : undefined;
  if (existing) return 0;
  const created = await service.create(input, DEMO_AUTHOR);
  // The seed page's article is not in its own timeline (that shows November 2024), so no entry.
  await service.publish(created.id, [created.version], { publishAt: new Date(publishedAt), addToTimeline: false }, DEMO_AUTHOR);
  return 1;
}
