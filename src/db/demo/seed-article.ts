import { readFileSync } from 'node:fs';

/** The seed page's article, as data (src/db/demo/seed-article.json). */
export interface SeedArticle {
  slug: string;
  locale: string;
  title: string;
  lead: string;
  section: string;
  sources: { name: string; url?: string }[];
  publishedAt: string;
  body: Record<string, unknown>[];
}

export const SEED_ARTICLE: SeedArticle = (
  JSON.parse(readFileSync(new URL('./seed-article.json', import.meta.url), 'utf8')) as { article: SeedArticle }
).article;

export interface SeedTimelineEntry {
  occurredAt: string;
  title: string;
  label?: 'opinion' | 'exclusive' | 'updated' | 'review';
}

/** The seed page's latest-news column (src/db/demo/seed-timeline.json). */
export const SEED_TIMELINE = JSON.parse(readFileSync(new URL('./seed-timeline.json', import.meta.url), 'utf8')) as {
  locale: string;
  entries: SeedTimelineEntry[];
};
