import type { Client } from 'openapi-fetch';
import type { operations, paths } from '../../openapi/openapi.js';

/**
 * A newsroom's day, written as an integrator writes it: against the client openapi-fetch makes
 * from the types openapi-typescript generates from the committed document, type-checked under
 * `strict` with the rest of the project. It runs in test/client/newsroom-day.test.ts, where every
 * response is also checked against the document.
 */

/** What the document promises a client can read: the ETag of a resource, as a string. */
type ArticleEtag = operations['getArticle']['responses'][200]['headers']['ETag'];

export interface DayReport {
  /** Steps that did not answer as the integrator expected. */
  failures: string[];
  steps: number;
}

export async function newsroomDay(client: Client<paths>, editorKey: string): Promise<DayReport> {
  const failures: string[] = [];
  let steps = 0;
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    steps += 1;
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) failures.push(`${what}: got ${JSON.stringify(actual)}, wanted ${JSON.stringify(wanted)}`);
  };
  const auth = { Authorization: `Bearer ${editorKey}` };
  const etagOf = (response: Response): ArticleEtag => response.headers.get('etag') ?? '';

  // Tags, one with a Cyrillic name (its slug is transliterated).
  const russia = await client.POST('/v1/tags', { headers: auth, body: { name: 'Росія', locale: 'uk' } });
  expect('Cyrillic tag created', russia.response.status, 201);
  expect('its slug', russia.data?.slug, 'rosiia');
  const energy = await client.POST('/v1/tags', { headers: auth, body: { name: 'Energy', locale: 'en', description: 'Power grid and fuel' } });
  expect('tag created', energy.response.status, 201);

  // An article to refer to, then one with every block type.
  const background = await client.POST('/v1/articles', { headers: auth, body: { title: 'Kyiv braces for winter blackouts', locale: 'en' } });
  expect('background article created', background.response.status, 201);
  const backgroundId = background.data?.id ?? '';
  const backgroundPublished = await client.POST('/v1/articles/{id}/publish', {
    headers: auth,
    params: { header: { 'if-match': etagOf(background.response) }, path: { id: backgroundId } },
    body: { addToTimeline: false },
  });
  expect('background published', backgroundPublished.data?.status, 'published');

  const created = await client.POST('/v1/articles', {
    headers: auth,
    body: {
      title: 'Massive missile attack on energy infrastructure',
      locale: 'en',
      lead: 'Russia launched dozens of missiles at <em>power plants</em> overnight.',
      label: 'breaking',
      section: 'news',
      byline: 'Newsdesk',
      sources: [{ name: 'Reuters', url: 'https://www.reuters.com/' }],
      tagSlugs: ['energy'],
      relatedIds: [backgroundId],
      coverImage: { url: 'https://images.example/grid.jpg', alt: 'A substation', caption: 'Damage in Kyiv region', credit: 'AP' },
      body: [
        { type: 'paragraph', text: 'Air raid alerts sounded across <strong>Ukraine</strong>.' },
        { type: 'heading', level: 2, text: 'What was hit' },
        { type: 'list', style: 'bullet', items: ['Thermal power plants', 'Substations'] },
        { type: 'quote', text: 'The grid held.', attribution: 'Ukrenergo' },
        { type: 'image', url: 'https://images.example/map.png', alt: 'Map of strikes' },
        { type: 'embed', url: 'https://www.youtube.com/watch?v=abc', provider: 'youtube' },
        { type: 'related', articleId: backgroundId },
      ],
    },
  });
  expect('article created', created.response.status, 201);
  expect('as a draft', created.data?.status, 'draft');
  expect('with its tag', created.data?.tags.map((tag) => tag.slug), ['energy']);
  const id = created.data?.id ?? '';
  let etag = etagOf(created.response);

  // No lost updates: without If-Match 428, with a stale one 412, and nothing changes.
  const withoutIfMatch = await client.PATCH('/v1/articles/{idOrSlug}', {
    headers: auth,
    // @ts-expect-error The document makes If-Match required: a client that forgets it does not compile.
    params: { path: { idOrSlug: id } },
    body: { title: 'Overwritten blindly' },
  });
  expect('428 without If-Match', withoutIfMatch.response.status, 428);
  expect('its problem code', withoutIfMatch.error?.code, 'PRECONDITION_REQUIRED');
  const stale = await client.PATCH('/v1/articles/{idOrSlug}', {
    headers: auth,
    params: { header: { 'if-match': '"v999"' }, path: { idOrSlug: id } },
    body: { title: 'Overwritten blindly' },
  });
  expect('412 with a stale ETag', stale.response.status, 412);

  // A slug change: the former slug answers 301 to the new one.
  const renamed = await client.PATCH('/v1/articles/{idOrSlug}', {
    headers: auth,
    params: { header: { 'if-match': etag }, path: { idOrSlug: id } },
    body: { slug: 'missile-attack-on-energy', title: 'Massive missile attack on energy infrastructure' },
  });
  expect('renamed', renamed.data?.slug, 'missile-attack-on-energy');
  etag = etagOf(renamed.response);

  // The body as read can be written back unchanged.
  const read = await client.GET('/v1/articles/{idOrSlug}', { headers: auth, params: { path: { idOrSlug: id } } });
  expect('read with a key', read.response.status, 200);
  const rewritten = await client.PATCH('/v1/articles/{idOrSlug}', {
    headers: auth,
    params: { header: { 'if-match': etag }, path: { idOrSlug: id } },
    body: { body: read.data?.body ?? [] },
  });
  expect('body written back as read', rewritten.response.status, 200);
  expect('unchanged', rewritten.data?.body, read.data?.body);
  etag = etagOf(rewritten.response);

  const published = await client.POST('/v1/articles/{id}/publish', {
    headers: auth,
    params: { header: { 'if-match': etag }, path: { id: id } },
  });
  expect('published', published.data?.status, 'published');
  etag = etagOf(published.response);
  const moved = await client.GET('/v1/articles/{idOrSlug}', {
    params: { path: { idOrSlug: 'massive-missile-attack-on-energy-infrastructure' }, query: { locale: 'en' } },
  });
  expect('former slug: 301', moved.response.status, 301);
  expect('to the new one', moved.response.headers.get('location'), '/v1/articles/missile-attack-on-energy?locale=en');
  const anonymous = await client.GET('/v1/articles/{idOrSlug}', { params: { path: { idOrSlug: 'missile-attack-on-energy' }, query: { format: 'html' } } });
  expect('anonymous read', anonymous.response.status, 200);
  expect('blocks resolved', anonymous.data?.body.length, 7);
  expect('html rendered', typeof anonymous.data?.bodyHtml, 'string');
  const notModified = await client.GET('/v1/articles/{idOrSlug}', {
    params: { path: { idOrSlug: 'missile-attack-on-energy' }, query: { format: 'html' } },
    headers: { 'If-None-Match': anonymous.response.headers.get('etag') ?? '' },
  });
  expect('conditional GET: 304', notModified.response.status, 304);

  // One scheduled for later.
  const later = await client.POST('/v1/articles', { headers: auth, body: { title: 'Evening briefing', locale: 'en', tagSlugs: ['energy'] } });
  const scheduled = await client.POST('/v1/articles/{id}/publish', {
    headers: auth,
    params: { header: { 'if-match': etagOf(later.response) }, path: { id: later.data?.id ?? '' } },
    body: { publishAt: new Date(Date.now() + 6 * 3600_000).toISOString() },
  });
  expect('scheduled', scheduled.data?.status, 'scheduled');

  // The timeline: flash lines over two days, grouped by day in the newsroom's time zone.
  for (const [title, occurredAt] of [
    ['Explosions heard in Kyiv', '2024-11-21T21:50:00.000Z'],
    ['Air defence active in the capital', '2024-11-21T22:30:00.000Z'],
    ['Power restored in Lviv', '2024-11-22T08:15:00.000Z'],
  ] as const) {
    const entry = await client.POST('/v1/timeline', { headers: auth, body: { title, occurredAt, locale: 'en' } });
    expect(`flash "${title}"`, entry.response.status, 201);
  }
  const days = await client.GET('/v1/timeline', { params: { query: { groupBy: 'day', before: '2024-11-23T00:00:00.000Z' } } });
  const grouped = days.data && 'days' in days.data ? days.data.days.map((day) => [day.date, day.entries.length]) : null;
  expect('days cut in Kyiv time', grouped, [['2024-11-22', 2], ['2024-11-21', 1]]);
  const inUtc = await client.GET('/v1/timeline', { params: { query: { groupBy: 'day', tz: 'UTC', before: '2024-11-23T00:00:00.000Z' } } });
  const utcDays = inUtc.data && 'days' in inUtc.data ? inUtc.data.days.map((day) => [day.date, day.entries.length]) : null;
  expect('or in UTC', utcDays, [['2024-11-22', 1], ['2024-11-21', 2]]);

  // Paging by cursor through every live article, one a page.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.GET('/v1/articles', { params: { query: { limit: 1, ...(cursor ? { cursor } : {}) } } });
    seen.push(...(page.data?.data.map((article) => article.slug) ?? []));
    cursor = page.data?.nextCursor ?? undefined;
  } while (cursor && seen.length < 10);
  expect('paged newest first', seen, ['missile-attack-on-energy', 'kyiv-braces-for-winter-blackouts']);
  const tagged = await client.GET('/v1/articles', { params: { query: { tag: ['energy'] } } });
  expect('tag filter (anonymous: the scheduled one is not live)', tagged.data?.data.map((article) => article.slug), ['missile-attack-on-energy']);
  const found = await client.GET('/v1/articles', { params: { query: { q: 'blackouts' } } });
  expect('search', found.data?.data.map((article) => article.slug), ['kyiv-braces-for-winter-blackouts']);

  // Revisions: every saved version, who saved it.
  const revisions = await client.GET('/v1/articles/{id}/revisions', { headers: auth, params: { path: { id: id } } });
  expect('revisions', revisions.data?.data.map((revision) => revision.version), [4, 3, 2, 1]);
  const first = await client.GET('/v1/articles/{id}/revisions/{version}', { headers: auth, params: { path: { id, version: 1 } } });
  expect('first revision', first.data?.article.title, 'Massive missile attack on energy infrastructure');

  // Feeds: XML as text.
  const rss = await client.GET('/v1/feeds/articles.{format}', { params: { path: { format: 'rss' } }, parseAs: 'text' });
  expect('RSS', rss.response.status, 200);

  // Unpublish, then delete.
  const unpublished = await client.POST('/v1/articles/{id}/unpublish', {
    headers: auth,
    params: { header: { 'if-match': etag }, path: { id: id } },
  });
  expect('unpublished', unpublished.data?.status, 'draft');
  const gone = await client.GET('/v1/articles/{idOrSlug}', { params: { path: { idOrSlug: 'missile-attack-on-energy' } } });
  expect('gone for readers', gone.response.status, 404);
  const deleted = await client.DELETE('/v1/articles/{idOrSlug}', {
    headers: auth,
    params: { header: { 'if-match': etagOf(unpublished.response) }, path: { idOrSlug: id } },
  });
  expect('deleted', deleted.response.status, 204);
  return { failures, steps };
}
