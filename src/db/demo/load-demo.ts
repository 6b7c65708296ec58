import { count } from 'drizzle-orm';
import type { Database } from '../database.js';
import { articles } from '../schema/articles.js';
import { tags } from '../schema/tags.js';
import { ArticleCreate } from '../../modules/articles/articles.schemas.js';
import * as articlesRepo from '../../modules/articles/articles.repository.js';
import { articlesService } from '../../modules/articles/articles.service.js';
import { EDITORIAL } from '../../modules/articles/visibility.js';
import { SEED_ARTICLE } from './seed-article.js';

const DEMO_AUTHOR = { keyId: null, name: 'Demo content' };

export interface DemoResult {
  articlesCreated: number;
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
export async function loadDemoContent(db: Database, defaults: { locale: string }): Promise<DemoResult> {
  const service = articlesService(db, defaults);
  const { publishedAt, ...fields } = SEED_ARTICLE;
  const input = ArticleCreate.parse(fields);
  const slug = input.slug ?? undefined;
  const existing = slug
    ? await articlesRepo.findArticle(db, articlesRepo.bySlug(slug, input.locale ?? defaults.locale), EDITORIAL)
    : undefined;
  if (existing) return { articlesCreated: 0 };
  const created = await service.create(input, DEMO_AUTHOR);
  await service.publish(created.id, [created.version], new Date(publishedAt), DEMO_AUTHOR);
  return { articlesCreated: 1 };
}
