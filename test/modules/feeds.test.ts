import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { loadDemoContent } from '../../src/db/demo/load-demo.js';
import { buildTestApp, json } from '../helper.js';

const { app, authAs, config } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'https://api.newsroom.test/' } });
const editor = await authAs('editor');
await loadDemoContent(app.database.db, { locale: config.DEFAULT_LOCALE });
const parser = new XMLParser({ ignoreAttributes: false });

async function article(payload: Record<string, unknown>, publish: Record<string, unknown> | null) {
  const created = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload }));
  if (publish) {
    await app.inject({ method: 'POST', url: `/v1/articles/${created.id}/publish`, headers: { ...editor, 'if-match': '"v1"' }, payload: publish });
  }
  return created.id;
}

const tag = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Energy' } }));
await article({ title: 'Grid under attack', tagIds: [tag.id], section: 'news', byline: 'Olena K.', body: [{ type: 'paragraph', text: 'Power <strong>out</strong>.' }] }, {});
await article({ title: 'Secret draft' }, null);
await article({ title: 'Scheduled piece', tagIds: [tag.id] }, { publishAt: new Date(Date.now() + 3_600_000).toISOString() });

t.test('RSS 2.0 of the latest articles parses back, with absolute links and no drafts', async (t) => {
  const response = await app.inject({ url: '/v1/feeds/articles.rss' });
  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-type'], 'application/rss+xml; charset=utf-8');
  t.match(response.headers['cache-control'], /^public/);
  t.equal(XMLValidator.validate(response.body), true);
  const rss = parser.parse(response.body).rss;
  t.equal(rss['@_version'], '2.0');
  const items = [rss.channel.item].flat();
  const titles = items.map((item: { title: string }) => item.title);
  t.same(titles, ['Grid under attack', 'Blinken and Lavrov discuss nuclear deal, Ukraine on sidelines of G20 summit']);
  t.equal(rss.channel.title, 'Lede — Latest articles', 'the newsroom names the feed');
  t.ok(rss.channel.description, 'the channel description is never empty');
  t.equal(rss.channel.link, 'https://api.newsroom.test/v1/articles', 'without SITE_URL the channel is the API list');
  t.equal(items[0].link, 'https://api.newsroom.test/v1/articles/grid-under-attack?locale=en', 'without SITE_URL items link to the API');
  t.equal(items[0]['dc:creator'], 'Olena K.');
  t.equal(items[0].author, undefined, 'RSS <author> is for e-mail addresses');
  t.type(response.headers['last-modified'], 'string');
  t.match(items[0]['content:encoded'], '<strong>out</strong>');
  t.notMatch(response.body, /Secret draft|Scheduled piece/);

  const notModified = await app.inject({ url: '/v1/feeds/articles.rss', headers: { 'if-none-match': String(response.headers.etag) } });
  t.equal(notModified.statusCode, 304);
});

t.test('Atom 1.0 per tag and per section', async (t) => {
  const response = await app.inject({ url: '/v1/feeds/articles.atom?tag=energy' });
  t.equal(response.headers['content-type'], 'application/atom+xml; charset=utf-8');
  t.equal(XMLValidator.validate(response.body), true);
  const feed = parser.parse(response.body).feed;
  t.equal(feed['@_xmlns'], 'http://www.w3.org/2005/Atom');
  const entries = [feed.entry].flat();
  t.same(entries.map((entry: { title: { '#text'?: string } | string }) => (typeof entry.title === 'string' ? entry.title : entry.title['#text'])), ['Grid under attack']);
  t.equal(feed.title['#text'], 'Lede — Latest articles tagged Energy', "a tag feed names the tag's name");
  t.equal(feed.author.name, 'Lede', 'the newsroom authors the feed');
  t.ok(entries[0].published && entries[0].updated >= entries[0].published, 'entries have publication and change dates');
  const section = parser.parse((await app.inject({ url: '/v1/feeds/articles.atom?section=culture' })).body).feed;
  t.equal(section.entry, undefined, 'an empty section has no entries');
});

t.test('JSON Feed 1.1, and the timeline feed', async (t) => {
  const response = await app.inject({ url: '/v1/feeds/articles.json' });
  t.equal(response.headers['content-type'], 'application/feed+json; charset=utf-8');
  const feed = json<{
    version: string;
    language: string;
    items: { id: string; url: string; content_html: string; authors?: { name: string }[]; date_published: string; date_modified: string }[];
  }>(response);
  t.equal(feed.version, 'https://jsonfeed.org/version/1.1');
  t.equal(feed.language, 'en');
  t.equal(feed.items.length, 2);
  t.same(feed.items[0]?.authors, [{ name: 'Olena K.' }]);
  t.match(feed.items[0]?.id, /^urn:uuid:/);

  t.ok(feed.items.every((item) => item.date_published && item.date_modified >= item.date_published), 'publication and change dates');
  const timeline = json<{ items: { title: string; url: string; content_text: string }[] }>(await app.inject({ url: '/v1/feeds/timeline.json' }));
  t.equal(timeline.items[0]?.title, 'Grid under attack', "a published article's entry leads");
  t.equal(timeline.items[0]?.url, 'https://api.newsroom.test/v1/articles/grid-under-attack?locale=en', "without SITE_URL: the article's API address");
  t.ok(timeline.items.every((item) => item.content_text), 'every timeline item carries its text (JSON Feed 1.1 requires content)');
  t.ok(timeline.items.some((item) => item.title === 'OPINION: Game of chicken'), 'labels are shown');
  t.notOk(timeline.items.some((item) => /Scheduled piece|Secret draft/.test(item.title)));
  const rss = parser.parse((await app.inject({ url: '/v1/feeds/timeline.rss' })).body).rss;
  t.equal([rss.channel.item].flat().length, 41);

  t.equal((await app.inject({ url: '/v1/feeds/articles.xml' })).statusCode, 400);
  t.equal((await app.inject({ url: '/v1/feeds/articles.rss?tag=Not%20slug' })).statusCode, 400);
});
