import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { SaxesParser } from 'saxes';
import t, { type Test } from 'tap';
import { newsLanguage } from '../../src/modules/sitemaps/news-language.js';
import { NEWS_NAMESPACE, SITEMAP_NAMESPACE } from '../../src/modules/sitemaps/sitemap-documents.js';
import { ARTICLES_PAGE_SIZE, NEWS_WINDOW_HOURS } from '../../src/modules/sitemaps/sitemaps.queries.js';
import { sitemapsService } from '../../src/modules/sitemaps/sitemaps.service.js';
import { buildTestApp, json } from '../helper.js';
import { asXmlText, xmlErrors } from '../strict-xml.js';

const HOUR_MS = 3_600_000;
const WINDOW_MS = NEWS_WINDOW_HOURS * HOUR_MS;
const SITE_ENV = {
  SITE_URL: 'https://news.example',
  SITE_ARTICLE_PATH: '/{yyyy}/{mm}/{dd}/{slug}',
  NEWSROOM_NAME: 'Kyiv & <Co> "Daily"',
  PUBLIC_BASE_URL: 'https://api.newsroom.test',
  RATE_LIMIT_MAX: '0',
};

/* A namespace-aware reading of a document: what a sitemap reader sees. */

interface XmlElement {
  uri: string;
  local: string;
  text: string;
  children: XmlElement[];
}

function parseXml(document: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const top: XmlElement = { uri: '', local: '', text: '', children: [] };
  const open = [top];
  parser.on('opentag', (tag) => {
    const element: XmlElement = { uri: tag.uri, local: tag.local, text: '', children: [] };
    open.at(-1)!.children.push(element);
    open.push(element);
  });
  parser.on('text', (text) => {
    open.at(-1)!.text += text;
  });
  parser.on('closetag', () => open.pop());
  parser.on('error', (error) => {
    throw error;
  });
  parser.write(document).close();
  return top.children[0]!;
}

function childrenOf(element: XmlElement, uri: string, local: string): XmlElement[] {
  return element.children.filter((child) => child.uri === uri && child.local === local);
}

/** The one child of that name; fails the test (by throwing) if there is not exactly one. */
function only(element: XmlElement, uri: string, local: string): XmlElement {
  const found = childrenOf(element, uri, local);
  if (found.length !== 1) throw new Error(`<${element.local}> has ${found.length} <${local}> in ${uri}`);
  return found[0]!;
}

interface NewsUrl {
  loc: string;
  name: string;
  language: string;
  publicationDate: string;
  title: string;
}

/** A news sitemap's entries, each with every element the protocol and the news extension require. */
function newsUrls(document: string): NewsUrl[] {
  const urlset = parseXml(document);
  if (urlset.uri !== SITEMAP_NAMESPACE || urlset.local !== 'urlset') throw new Error(`root is <${urlset.local}> in ${urlset.uri}`);
  return childrenOf(urlset, SITEMAP_NAMESPACE, 'url').map((url) => {
    const news = only(url, NEWS_NAMESPACE, 'news');
    const publication = only(news, NEWS_NAMESPACE, 'publication');
    return {
      loc: only(url, SITEMAP_NAMESPACE, 'loc').text,
      name: only(publication, NEWS_NAMESPACE, 'name').text,
      language: only(publication, NEWS_NAMESPACE, 'language').text,
      publicationDate: only(news, NEWS_NAMESPACE, 'publication_date').text,
      title: only(news, NEWS_NAMESPACE, 'title').text,
    };
  });
}

/** `<urlset>` or `<sitemapindex>` entries: loc and lastmod (empty when absent). */
function sitemapEntries(document: string, root: 'urlset' | 'sitemapindex'): { loc: string; lastmod: string }[] {
  const top = parseXml(document);
  if (top.uri !== SITEMAP_NAMESPACE || top.local !== root) throw new Error(`root is <${top.local}> in ${top.uri}`);
  return childrenOf(top, SITEMAP_NAMESPACE, root === 'urlset' ? 'url' : 'sitemap').map((entry) => ({
    loc: only(entry, SITEMAP_NAMESPACE, 'loc').text,
    lastmod: childrenOf(entry, SITEMAP_NAMESPACE, 'lastmod')[0]?.text ?? '',
  }));
}

const w3c = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');
/**
 * What lastmod dates: the later of the last change and the publication. Publishing now takes the
 * publication time from the server's clock and the change time from the database's, which can
 * differ by a few milliseconds either way.
 */
const changedAt = (article: { updatedAt: string; publishedAt: string | null }) =>
  article.publishedAt && article.publishedAt > article.updatedAt ? article.publishedAt : article.updatedAt;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function assertProblem(t: Test, response: LightMyRequestResponse, status: number, code: string) {
  t.equal(response.statusCode, status, response.body.slice(0, 200));
  t.match(response.headers['content-type'], /^application\/problem\+json/);
  t.equal(json<{ code: string }>(response).code, code);
}

function assertXml(t: Test, response: LightMyRequestResponse) {
  t.equal(response.statusCode, 200, response.body.slice(0, 200));
  t.equal(response.headers['content-type'], 'application/xml; charset=utf-8');
  t.same(xmlErrors(response.body), [], 'well-formed for a strict XML 1.0 parser');
}

interface WrittenArticle {
  id: string;
  slug: string;
  version: number;
  url: string | null;
  publishedAt: string | null;
  updatedAt: string;
}

/** An editor of one app: writes articles through the API, as a newsroom would. */
async function newsroom(app: FastifyInstance, authorization: string) {
  const headers = { authorization };
  const send = async (method: 'POST' | 'DELETE', url: string, version: number | null, payload?: object) => {
    const response = await app.inject({ method, url, headers: { ...headers, ...(version ? { 'if-match': `"v${version}"` } : {}) }, ...(payload ? { payload } : {}) });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.body === '' ? null : json<WrittenArticle>(response);
  };
  return {
    create: async (payload: Record<string, unknown>) => (await send('POST', '/v1/articles', null, payload))!,
    publish: async (article: WrittenArticle, publishAt?: Date) =>
      (await send('POST', `/v1/articles/${article.id}/publish`, article.version, publishAt ? { publishAt: publishAt.toISOString() } : {}))!,
    unpublish: async (article: WrittenArticle) => (await send('POST', `/v1/articles/${article.id}/unpublish`, article.version, {}))!,
    archive: async (article: WrittenArticle) => (await send('POST', `/v1/articles/${article.id}/archive`, article.version, {}))!,
    remove: async (article: WrittenArticle) => send('DELETE', `/v1/articles/${article.id}`, article.version),
    /** Created and published (at `publishAt`, else now). */
    async live(payload: Record<string, unknown>, publishAt?: Date) {
      return this.publish(await this.create(payload), publishAt);
    },
  };
}

t.test('without SITE_URL every sitemap is 404 problem+json', async (t) => {
  const { app } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'https://api.newsroom.test' } });
  for (const url of ['/v1/sitemaps/news.xml', '/v1/sitemaps/index.xml', '/v1/sitemaps/articles-1.xml']) {
    assertProblem(t, await app.inject({ url }), 404, 'SITEMAPS_DISABLED');
  }
});

t.test('Google News languages', async (t) => {
  t.equal(newsLanguage('en'), 'en');
  t.equal(newsLanguage('uk'), 'uk');
  t.equal(newsLanguage('pt-BR'), 'pt');
  t.equal(newsLanguage('fil'), 'fil', 'a three-letter ISO 639 code stays');
  t.equal(newsLanguage('zh'), 'zh-cn');
  t.equal(newsLanguage('zh-CN'), 'zh-cn');
  t.equal(newsLanguage('zh-Hans-HK'), 'zh-cn', 'the script decides over the region');
  t.equal(newsLanguage('zh-TW'), 'zh-tw');
  t.equal(newsLanguage('zh-HK'), 'zh-tw');
  t.equal(newsLanguage('zh-Hant'), 'zh-tw');
});

t.test('with SITE_URL', async (t) => {
  const { app, authAs, database } = await buildTestApp(t, { env: SITE_ENV });
  const desk = await newsroom(app, (await authAs('editor')).authorization);
  const now = Date.now();

  const grid = await desk.live({ title: 'Grid under attack', section: 'news' });
  const kyiv = await desk.live({ title: 'Київ без світла', locale: 'uk' }, new Date(now - 2 * HOUR_MS));
  const taipei = await desk.live({ title: '台北新聞', slug: 'taipei-news', locale: 'zh-TW' }, new Date(now - HOUR_MS));
  const partner = await desk.live(
    { title: 'Syndicated & shared', canonicalUrl: 'https://partner.example/story?a=1&b=<2>' },
    new Date(now - 3 * HOUR_MS),
  );
  const draft = await desk.create({ title: 'Secret draft' });
  const scheduled = await desk.publish(await desk.create({ title: 'Scheduled piece' }), new Date(now + HOUR_MS));
  const archived = await desk.archive(await desk.live({ title: 'Archived piece' }, new Date(now - 4 * HOUR_MS)));
  const old = await desk.live({ title: 'Older than two days' }, new Date(now - WINDOW_MS - HOUR_MS));
  const deleted = await desk.live({ title: 'Deleted piece' });
  await desk.remove(deleted);

  t.test('the news sitemap lists the live articles of the last 48 hours, newest first', async (t) => {
    const response = await app.inject({ url: '/v1/sitemaps/news.xml' });
    assertXml(t, response);
    t.match(response.headers['cache-control'], /^public, max-age=60\b/);
    t.match(response.headers['surrogate-key'], /\barticles\b/);
    t.match(response.headers['surrogate-key'], /\bsitemaps\b/);
    t.match(response.headers['surrogate-key'], `article:${grid.id}`);
    const urls = newsUrls(response.body);
    t.same(
      urls.map((url) => url.title),
      ['Grid under attack', '台北新聞', 'Київ без світла', 'Syndicated & shared'],
      'not drafts, scheduled, archived, deleted or older ones',
    );
    for (const [article, url] of [grid, taipei, kyiv, partner].map((article, i) => [article, urls[i]!] as const)) {
      t.equal(url.loc, article.url, "loc is the article's url");
      t.equal(url.publicationDate, w3c(article.publishedAt!), 'the first publication, as a W3C datetime');
      t.equal(url.name, SITE_ENV.NEWSROOM_NAME);
    }
    t.match(urls[0]!.loc, /^https:\/\/news\.example\/\d{4}\/\d{2}\/\d{2}\/grid-under-attack$/);
    t.equal(urls[3]!.loc, 'https://partner.example/story?a=1&b=%3C2%3E', 'a canonical url reads back through the escaping');
    t.match(response.body, '<loc>https://partner.example/story?a=1&amp;b=%3C2%3E</loc>');
    t.same(urls.map((url) => url.language), ['en', 'zh-tw', 'uk', 'en']);
    for (const hidden of [draft, scheduled, archived, old, deleted]) t.notMatch(response.body, hidden.slug);

    const root = parseXml(response.body);
    t.equal(root.local, 'urlset');
    t.equal(root.uri, SITEMAP_NAMESPACE);
    t.match(response.body, `xmlns:news="${NEWS_NAMESPACE}"`);
  });

  t.test('the index and the pages list every live article, oldest first', async (t) => {
    const index = await app.inject({ url: '/v1/sitemaps/index.xml' });
    assertXml(t, index);
    const pages = sitemapEntries(index.body, 'sitemapindex');
    t.equal(pages.length, 1);
    t.equal(pages[0]!.loc, 'https://api.newsroom.test/v1/sitemaps/articles-1.xml');

    const page = await app.inject({ url: '/v1/sitemaps/articles-1.xml' });
    assertXml(t, page);
    const listed = sitemapEntries(page.body, 'urlset');
    const expected = [old, partner, kyiv, taipei, grid];
    t.same(
      listed.map((entry) => entry.loc),
      expected.map((article) => article.url),
    );
    // A publication dated in the past changes the article now: lastmod is that change.
    t.same(
      listed.map((entry) => entry.lastmod),
      expected.map((article) => w3c(changedAt(article))),
    );
    const newest = expected.map(changedAt).sort().at(-1)!;
    t.equal(pages[0]!.lastmod, w3c(newest), "the index's lastmod is the page's latest change");

    assertProblem(t, await app.inject({ url: '/v1/sitemaps/articles-2.xml' }), 404, 'SITEMAP_PAGE_NOT_FOUND');
    assertProblem(t, await app.inject({ url: '/v1/sitemaps/articles-999999999.xml' }), 404, 'SITEMAP_PAGE_NOT_FOUND');
    for (const bad of ['0', '-1', 'abc', '1.5', '01', '1e3', '1-2', '', '1234567890']) {
      assertProblem(t, await app.inject({ url: `/v1/sitemaps/articles-${bad}.xml` }), 400, 'VALIDATION_FAILED');
    }
  });

  t.test('pages split in publication order, each with its own lastmod', async (t) => {
    const small = sitemapsService(database.db, { urls: app.siteUrls, baseUrl: 'https://api.newsroom.test', newsroomName: 'Lede', pageSize: 2 });
    const expected = [old, partner, kyiv, taipei, grid];
    const indexed = sitemapEntries(await small.index(), 'sitemapindex');
    t.same(
      indexed.map((entry) => entry.loc),
      [1, 2, 3].map((n) => `https://api.newsroom.test/v1/sitemaps/articles-${n}.xml`),
    );
    for (const [i, entry] of indexed.entries()) {
      const members = expected.slice(i * 2, i * 2 + 2);
      const listed = sitemapEntries(await small.page(i + 1), 'urlset');
      t.same(
        listed.map((item) => item.loc),
        members.map((article) => article.url),
        `page ${i + 1}`,
      );
      t.equal(entry.lastmod, w3c(members.map(changedAt).sort().at(-1)!), `page ${i + 1} lastmod`);
    }
    await t.rejects(small.page(4), { code: 'SITEMAP_PAGE_NOT_FOUND' });
  });

  t.test('answers are cached, and a publication or unpublication shows at once', async (t) => {
    const urls = ['/v1/sitemaps/news.xml', '/v1/sitemaps/index.xml', '/v1/sitemaps/articles-1.xml'];
    const readAll = async () => Promise.all(urls.map((url) => app.inject({ url })));
    await readAll();
    for (const response of await readAll()) t.equal(response.headers['x-cache'], 'hit', 'a second read is a hit');

    const fresh = await desk.live({ title: 'Fresh scoop' });
    const [news, index, page] = await readAll();
    for (const response of [news!, index!, page!]) t.equal(response.headers['x-cache'], 'miss', 'a publication ends every cached copy');
    t.equal(newsUrls(news!.body)[0]!.loc, fresh.url);
    t.equal(sitemapEntries(index!.body, 'sitemapindex')[0]!.lastmod, w3c(changedAt(fresh)), "the index's lastmod moves with it");
    t.equal(sitemapEntries(page!.body, 'urlset').at(-1)!.loc, fresh.url);
    for (const response of await readAll()) t.equal(response.headers['x-cache'], 'hit');

    await desk.unpublish(fresh);
    for (const response of await readAll()) {
      t.equal(response.headers['x-cache'], 'miss', 'so does an unpublication');
      t.notMatch(response.body, fresh.slug);
    }
  });

  t.test('an article that ages out of the news window ends the cached copy then', async (t) => {
    const agingMs = 3_000;
    const aging = await desk.live({ title: 'About to age out' }, new Date(Date.now() - WINDOW_MS + agingMs));
    const first = await app.inject({ url: '/v1/sitemaps/news.xml' });
    t.equal(first.headers['x-cache'], 'miss');
    t.match(first.body, aging.slug);
    const maxAge = Number(/max-age=(\d+)/.exec(String(first.headers['cache-control']))?.[1]);
    t.ok(maxAge <= agingMs / 1000, `max-age ${maxAge} ends when the article ages out`);
    t.equal((await app.inject({ url: '/v1/sitemaps/news.xml' })).headers['x-cache'], 'hit');

    await sleep(agingMs + 200);
    const later = await app.inject({ url: '/v1/sitemaps/news.xml' });
    t.equal(later.headers['x-cache'], 'miss', 'the cached copy ended with no write');
    t.notMatch(later.body, aging.slug);
    t.match(later.body, 'grid-under-attack');
    t.match(later.headers['cache-control'], /^public, max-age=60\b/, 'the oldest article left is hours from aging out');
  });
});

t.test('hostile titles stay text in a well-formed news sitemap', async (t) => {
  const { app, authAs } = await buildTestApp(t, { env: { ...SITE_ENV, NEWSROOM_NAME: 'A ]]> B <news> & "co" \'s' } });
  const desk = await newsroom(app, (await authAs('editor')).authorization);
  const forged = ']]></news:title></news:news></url><url><loc>https://evil.example</loc></url><![CDATA[';
  const titles = [
    `Fish & chips <b>bold</b> ${forged}`,
    `"Double" and 'single' quotes, &amp; an entity that stays text`,
    'Controls\u0001\u0007\u000B\u000C\u001F and U+FFFE\uFFFE U+FFFF\uFFFF gone, tab\tstays',
    'Emoji 🇺🇦👩🏽‍💻 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    '\u200Fعاجل: خبر عن كييف\u200F mixed with English',
    `${'Very long title & more '.repeat(13)}end`.slice(0, 300),
  ];
  const written = [];
  for (const [i, title] of titles.entries()) written.push(await desk.live({ title, slug: `hostile-${i}` }, new Date(Date.now() - (i + 1) * 60_000)));

  const response = await app.inject({ url: '/v1/sitemaps/news.xml' });
  assertXml(t, response);
  const urls = newsUrls(response.body);
  t.equal(urls.length, titles.length, 'no forged entry');
  t.same(
    urls.map((url) => url.title),
    titles.map((title) => asXmlText(title.trim())),
    'each title reads back as sent, less what XML cannot carry',
  );
  t.same(
    urls.map((url) => url.loc),
    written.map((article) => article.url),
  );
  for (const url of urls) t.equal(url.name, 'A ]]> B <news> & "co" \'s');

  for (const path of ['/v1/sitemaps/index.xml', '/v1/sitemaps/articles-1.xml']) assertXml(t, await app.inject({ url: path }));
});

t.test('50,001 articles make two pages of the sitemap protocol size', async (t) => {
  const { app, database } = await buildTestApp(t, { env: SITE_ENV });
  const total = ARTICLES_PAGE_SIZE + 1;
  // Straight in SQL: a crawl-sized site in a second. Publication a second apart, oldest first.
  await database.db.execute(sql`
    insert into articles (locale, slug, status, title, published_at, updated_at)
    select 'en', 'bulk-' || n, 'published', 'Bulk ' || n,
           timestamptz '2024-01-01T00:00:00Z' + n * interval '1 second',
           timestamptz '2024-06-01T00:00:00Z' + (n % 1000) * interval '1 second'
    from generate_series(1, ${total}::int) n
  `);
  const index = await app.inject({ url: '/v1/sitemaps/index.xml' });
  assertXml(t, index);
  t.same(sitemapEntries(index.body, 'sitemapindex'), [
    { loc: 'https://api.newsroom.test/v1/sitemaps/articles-1.xml', lastmod: '2024-06-01T00:16:39Z' },
    { loc: 'https://api.newsroom.test/v1/sitemaps/articles-2.xml', lastmod: '2024-06-01T00:00:01Z' },
  ]);

  const first = await app.inject({ url: '/v1/sitemaps/articles-1.xml' });
  t.equal(first.statusCode, 200);
  t.equal(first.body.match(/<url>/g)?.length, ARTICLES_PAGE_SIZE);
  t.match(first.body, /<loc>https:\/\/news\.example\/2024\/01\/01\/bulk-1<\/loc>/);
  const second = await app.inject({ url: '/v1/sitemaps/articles-2.xml' });
  assertXml(t, second);
  t.same(sitemapEntries(second.body, 'urlset'), [{ loc: `https://news.example/2024/01/01/bulk-${total}`, lastmod: '2024-06-01T00:00:01Z' }]);
  assertProblem(t, await app.inject({ url: '/v1/sitemaps/articles-3.xml' }), 404, 'SITEMAP_PAGE_NOT_FOUND');

  const news = await app.inject({ url: '/v1/sitemaps/news.xml' });
  assertXml(t, news);
  t.same(newsUrls(news.body), [], 'none of them is recent');
});
