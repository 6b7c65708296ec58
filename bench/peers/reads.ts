/** What a peer is asked for each of Lede's measured reads, and how the answers are compared. */

/** Lede's uncached reads that the peers are measured on (names as in bench/run.ts's rows). */
export const PEER_ROWS = [
  'article list',
  'article by slug (random)',
  'articles by tag',
  'timeline first page',
  'timeline 80% deep',
  'timeline by day',
  'RSS feed',
] as const;
export type PeerRow = (typeof PEER_ROWS)[number];

export interface Pick {
  prefix: string;
  count: number;
}

/** A read the peer serves (the exact path asked, with `pick` a random slug), or why it has none. */
export type PeerRead = { path: string; pick?: Pick; how: string } | { path: null; reason: string };

export interface ReadContext {
  articles: number;
  /** The occurred_at (ISO) of the entry Lede's 80 % deep cursor points at: the page is the entries before it. */
  deepBefore: string;
  tag: string;
}

/**
 * What identifies the rows of an answer, whoever serves it: article slugs, timeline entry titles
 * (unique: 'Timeline entry N'). Lede and the peers answer `{data: [...]}` for lists, Lede's
 * grouped timeline `{days: [{entries}]}`, Lede's article the object itself.
 */
export function keysOf(body: string, contentType: string): string[] {
  if (!contentType.includes('json')) throw new Error(`not JSON (${contentType}): ${body.slice(0, 200)}`);
  type Item = { slug?: string; title?: string };
  const json = JSON.parse(body) as Item & { data?: Item[] | Item; days?: { entries: Item[] }[] };
  const items = json.days ? json.days.flatMap((day) => day.entries) : Array.isArray(json.data) ? json.data : [json.data ?? json];
  return items.map((item) => item.slug ?? item.title ?? JSON.stringify(item));
}

/** Lede's paths for the same rows (bench/run.ts's endpoints); the deep cursor is the run's. */
export function ledeReads(context: ReadContext & { deepCursor: string }): Record<PeerRow, { path: string; pick?: Pick }> {
  return {
    'article list': { path: '/v1/articles?limit=20' },
    'article by slug (random)': { path: '/v1/articles/article-1', pick: { prefix: '/v1/articles/article-', count: context.articles } },
    'articles by tag': { path: `/v1/articles?tag=${context.tag}&limit=20` },
    'timeline first page': { path: '/v1/timeline?limit=20' },
    'timeline 80% deep': { path: `/v1/timeline?limit=20&cursor=${context.deepCursor}` },
    'timeline by day': { path: '/v1/timeline?limit=20&groupBy=day' },
    'RSS feed': { path: '/v1/feeds/articles.rss' },
  };
}
