import { SEED_ARTICLE } from '../../db/demo/seed-article.js';

/** The OpenAPI example: the demo article as the API returns it (ids are illustrative). */
export const SEED_ARTICLE_EXAMPLE = {
  id: '3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f',
  slug: SEED_ARTICLE.slug,
  locale: SEED_ARTICLE.locale,
  status: 'published',
  title: SEED_ARTICLE.title,
  lead: SEED_ARTICLE.lead,
  label: null,
  section: SEED_ARTICLE.section,
  byline: null,
  tags: [],
  coverImage: null,
  canonicalUrl: null,
  url: `https://news.example/articles/${SEED_ARTICLE.slug}`,
  publishedAt: SEED_ARTICLE.publishedAt,
  createdAt: SEED_ARTICLE.publishedAt,
  updatedAt: SEED_ARTICLE.publishedAt,
  version: 2,
  body: SEED_ARTICLE.body,
  sources: SEED_ARTICLE.sources,
  related: [],
};
