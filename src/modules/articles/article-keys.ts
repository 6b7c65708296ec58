import type { ArticleLinks, ArticleRow } from './articles.repository.js';

/** Whether anonymous readers see the article now or will without another write (scheduled). */
function reachesReaders(row: Pick<ArticleRow, 'status' | 'deletedAt'>): boolean {
  return row.deletedAt === null && (row.status === 'published' || row.status === 'scheduled');
}

/**
 * What an article write changes for anonymous readers (by Surrogate-Key names): its own page and
 * the pages referring to it always; while it is or was (about to be) live also the lists and
 * feeds, its tags' pages and counts, and the timeline when it has entries there. The response
 * cache drops these, and the write's events name them for CDNs.
 */
export function articleChangeKeys(
  before: Pick<ArticleRow, 'status' | 'deletedAt'> | null,
  after: Pick<ArticleRow, 'id' | 'status' | 'deletedAt'>,
  links: Pick<ArticleLinks, 'tags' | 'inTimeline'>,
  tagIdsBefore: string[] = [],
): string[] {
  const keys = [`article:${after.id}`];
  if (!(before && reachesReaders(before)) && !reachesReaders(after)) return keys;
  const tagIds = new Set([...tagIdsBefore, ...links.tags.map((tag) => tag.id)]);
  keys.push('articles', 'feeds', 'tags', ...[...tagIds].map((id) => `tag:${id}`));
  if (links.inTimeline) keys.push('timeline');
  return keys;
}
