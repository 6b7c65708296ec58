import t from 'tap';
import { buildTestApp, json } from '../helper.js';

type Summary = { id: string; slug: string; title: string; status: string; publishedAt: string | null; body?: unknown };
type Page = { data: Summary[]; nextCursor: string | null };

let queries = 0;
// The rate limiter's one statement per request is not the list's cost; it is left out of the count.
// Background work shares the database and is not a request's: the rate limiter's flushes, the
// event scheduler's look for due publications (a second after writes), the webhook worker's passes.
const BACKGROUND = ['rate_limits', "status = 'scheduled'", 'webhook'];
const { app, authAs } = await buildTestApp(t, { onQuery: (sql) => (queries += BACKGROUND.some((part) => sql.includes(part)) ? 0 : 1) });
const editor = await authAs('editor');

async function publishedArticle(payload: Record<string, unknown>, publishAt: string) {
  const created = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload });
  t.equal(created.statusCode, 201, `created ${String(payload.title)}`);
  const article = json<Summary & { version: number }>(created);
  const published = await app.inject({
    method: 'POST',
    url: `/v1/articles/${article.id}/publish`,
    headers: { ...editor, 'if-match': `"v${article.version}"` },
    payload: { publishAt },
  });
  t.equal(published.statusCode, 200);
  return json<Summary>(published);
}

const tagIds: Record<string, string> = {};
for (const name of ['Kyiv', 'Energy']) {
  tagIds[name] = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name, locale: 'de' } })).id;
}

t.test('filters: locale, section, label, tag (all of them), dates; summaries carry no body', async (t) => {
  await publishedArticle({ title: 'Kyiv power cut', locale: 'de', section: 'news', label: 'breaking', tagSlugs: ['kyiv', 'energy'] }, '2024-11-22T10:00:00.000Z');
  await publishedArticle({ title: 'Kyiv theatre', locale: 'de', section: 'culture', tagSlugs: ['kyiv'] }, '2024-11-21T10:00:00.000Z');
  await publishedArticle({ title: 'Grid opinion', locale: 'de', section: 'news', label: 'opinion', tagSlugs: ['energy'] }, '2024-11-20T10:00:00.000Z');
  const titles = async (query: string) => json<Page>(await app.inject({ url: `/v1/articles?locale=de&${query}` })).data.map((a) => a.title);

  t.same(await titles(''), ['Kyiv power cut', 'Kyiv theatre', 'Grid opinion'], 'newest first');
  t.same(await titles('section=news'), ['Kyiv power cut', 'Grid opinion']);
  t.same(await titles('label=opinion'), ['Grid opinion']);
  t.same(await titles('tag=kyiv'), ['Kyiv power cut', 'Kyiv theatre']);
  t.same(await titles('tag=kyiv&tag=energy'), ['Kyiv power cut'], 'repeated tag means all of them');
  t.same(await titles('publishedAfter=2024-11-20T12:00:00Z&publishedBefore=2024-11-22T00:00:00Z'), ['Kyiv theatre']);
  const first = json<Page>(await app.inject({ url: '/v1/articles?locale=de' })).data[0];
  t.equal(first?.body, undefined, 'no body in a summary');
});

t.test('full-text search ranks English and Ukrainian text', async (t) => {
  await publishedArticle(
    { title: 'Blinken urges Russia on New START', locale: 'fr', lead: 'Nuclear arsenals', body: [{ type: 'paragraph', text: 'Verifiable limits on nuclear arsenals.' }] },
    '2024-01-01T00:00:00.000Z',
  );
  await publishedArticle({ title: 'Weather', locale: 'fr', body: [{ type: 'paragraph', text: 'A nuclear winter joke.' }] }, '2024-01-02T00:00:00.000Z');
  await publishedArticle({ title: 'Удар по Дніпру', locale: 'fr', body: [{ type: 'paragraph', text: 'Росія вдарила ракетою по Дніпру.' }] }, '2024-01-03T00:00:00.000Z');
  const search = async (q: string) =>
    json<Page>(await app.inject({ url: `/v1/articles?locale=fr&q=${encodeURIComponent(q)}` })).data.map((a) => a.title);
  t.same(await search('nuclear'), ['Blinken urges Russia on New START', 'Weather'], 'title and lead weigh more than body');
  t.same(await search('arsenal'), ['Blinken urges Russia on New START'], 'English stemming');
  t.same(await search('ракетою'), ['Удар по Дніпру'], 'Ukrainian words');
  t.same(await search('Дніпру'), ['Удар по Дніпру']);
  t.same(await search('nothing-matches-this'), []);
  const paged = json<Page>(await app.inject({ url: '/v1/articles?locale=fr&q=nuclear&limit=1' }));
  t.equal(paged.data.length, 1);
  t.ok(paged.nextCursor);
  const second = json<Page>(await app.inject({ url: `/v1/articles?locale=fr&q=nuclear&limit=1&cursor=${paged.nextCursor}` }));
  t.same(second.data.map((a) => a.title), ['Weather']);
  const mixed = await app.inject({ url: `/v1/articles?locale=fr&limit=1&cursor=${paged.nextCursor}` });
  t.equal(mixed.statusCode, 400, 'a search cursor is not a list cursor');
});

t.test('cursor paging is stable while articles are added, and drafts never leak', async (t) => {
  const times = Array.from({ length: 7 }, (_, i) => new Date(Date.UTC(2023, 5, 1 + i)).toISOString());
  for (const [i, at] of times.entries()) await publishedArticle({ title: `Page item ${i}`, locale: 'it' }, at);
  // Two share one timestamp: the id breaks the tie.
  await publishedArticle({ title: 'Page item twin', locale: 'it' }, times[3]!);
  await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Secret draft', locale: 'it' } });

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page = json<Page>(await app.inject({ url: `/v1/articles?locale=it&limit=3${cursor ? `&cursor=${cursor}` : ''}` }));
    seen.push(...page.data.map((a) => a.title));
    cursor = page.nextCursor;
    if (pages++ === 0) await publishedArticle({ title: 'Breaking meanwhile', locale: 'it' }, new Date().toISOString());
  } while (cursor);
  t.equal(seen.length, 8);
  t.equal(new Set(seen).size, 8, 'no repeats');
  t.notOk(seen.includes('Secret draft'));
  t.notOk(seen.includes('Breaking meanwhile'), 'an item newer than the first page does not shift later pages');

  const drafts = await app.inject({ url: '/v1/articles?status=draft' });
  t.equal(drafts.statusCode, 401);
  const editorDrafts = json<Page>(await app.inject({ url: '/v1/articles?locale=it&status=draft', headers: editor }));
  t.same(editorDrafts.data.map((a) => a.title), ['Secret draft']);
  for (const bad of ['limit=0', 'limit=101', 'cursor=%%%', 'status=gone', 'publishedAfter=yesterday', 'label=fake', 'tag=Not%20A%20Slug']) {
    t.equal((await app.inject({ url: `/v1/articles?${bad}` })).statusCode, 400, bad);
  }
});

t.test('one tag, anonymously: the walk along the tag\'s links pages exactly like the general list', async (t) => {
  // The same slug in two locales (a tag belongs to one locale), drafts, scheduled, archived and
  // equal publication times: the link walk must agree with filtering the whole list.
  for (const locale of ['pl', 'cs']) {
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Grid', locale } });
  }
  const sameTime = '2024-10-01T08:00:00.000Z';
  for (let i = 0; i < 7; i += 1) {
    const locale = i % 2 === 0 ? 'pl' : 'cs';
    await publishedArticle({ title: `Grid ${i}`, locale, tagSlugs: i === 3 ? [] : ['grid'] }, i < 4 ? sameTime : `2024-10-0${i}T08:00:00.000Z`);
  }
  const future = await publishedArticle({ title: 'Grid later', locale: 'pl', tagSlugs: ['grid'] }, '2999-01-01T00:00:00.000Z');
  t.equal(future.status, 'scheduled');
  const archived = await publishedArticle({ title: 'Grid archived', locale: 'cs', tagSlugs: ['grid'] }, '2024-10-02T09:00:00.000Z');
  const archive = await app.inject({ method: 'POST', url: `/v1/articles/${archived.id}/archive`, headers: { ...editor, 'if-match': '"v2"' } });
  t.equal(archive.statusCode, 200);
  await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Grid draft', locale: 'pl', tagSlugs: ['grid'] } });

  const walk = async (query: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = json<Page>(await app.inject({ url: `/v1/articles?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}` }));
      ids.push(...page.data.map((article) => article.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  };
  const everything = json<Page>(await app.inject({ url: '/v1/articles?limit=100' })).data as (Summary & { locale: string; tags: { slug: string }[] })[];
  const tagged = everything.filter((article) => article.tags.some((tag) => tag.slug === 'grid'));
  t.equal(tagged.length, 6, 'live articles only');
  t.same(await walk('tag=grid'), tagged.map((article) => article.id), 'both locales, newest first, ties by id, across pages');
  const polish = tagged.filter((article) => article.locale === 'pl').map((article) => article.id);
  t.equal(polish.length, 4);
  t.same(await walk('tag=grid&locale=pl'), polish, 'one locale');
});

t.test('a list page costs the same number of queries whatever its size', async (t) => {
  const count = async (url: string) => {
    queries = 0;
    const response = await app.inject({ url });
    t.equal(response.statusCode, 200);
    return { queries, items: json<Page>(response).data.length };
  };
  const small = await count('/v1/articles?locale=it&limit=2');
  const large = await count('/v1/articles?locale=it&limit=100');
  t.equal(small.items, 2);
  t.ok(large.items >= 8);
  t.equal(large.queries, small.queries);
  t.equal(small.queries, 2, 'the page, then its articles\' tags in one statement');
  const empty = await count('/v1/articles?locale=it&q=nothingmatchesthis');
  t.equal(empty.items, 0);
  t.equal(empty.queries, 1, 'an empty page asks for no tags');
});
