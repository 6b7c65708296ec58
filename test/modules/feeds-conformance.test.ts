import { XMLParser } from 'fast-xml-parser';
import Parser from 'rss-parser';
import t, { type Test } from 'tap';
import { loadDemoContent } from '../../src/db/demo/load-demo.js';
import { buildTestApp, json } from '../helper.js';
import { asXmlText, xmlErrors } from '../strict-xml.js';

/**
 * What a reader or an aggregator needs from each feed, checked with parsers that are not ours:
 * every element its format requires, links to the news website's pages (SITE_URL is set here),
 * dates that mean publication and last change, bylines, tags and the cover image; on the demo
 * content and on hostile text.
 */
const SITE = 'https://news.example';
const API = 'https://api.newsroom.test';
const { app, authAs, config } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: API, SITE_URL: SITE, NEWSROOM_NAME: 'Daily <Lede> & Co' } });
const editor = await authAs('editor');
await loadDemoContent(app.database.db, { locale: config.DEFAULT_LOCALE });

async function created<T = { id: string; slug: string; version: number }>(url: string, payload: Record<string, unknown>): Promise<T> {
  const response = await app.inject({ method: 'POST', url, headers: editor, payload });
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return json<T>(response);
}

const HOSTILE = `Ток & <b>шок</b> ]]> "q" 'a' \u0007 🇺🇦 \u200Fعاجل\u200F`;
const tag = await created('/v1/tags', { name: `Energy ${HOSTILE}` });
const cover = { url: 'https://cdn.example/img/grid.JPG', alt: `A substation ${HOSTILE}` };
const hostile = await created('/v1/articles', {
  title: `Grid ${HOSTILE}`,
  lead: `Lead ${HOSTILE}`,
  byline: `Олена ${HOSTILE}`,
  tagIds: [tag.id],
  section: 'news',
  coverImage: cover,
  body: [{ type: 'paragraph', text: 'Power is back.' }],
});
const published = await app.inject({ method: 'POST', url: `/v1/articles/${hostile.id}/publish`, headers: { ...editor, 'if-match': '"v1"' }, payload: {} });
if (published.statusCode !== 200) throw new Error(published.body);

const FEEDS = ['/v1/feeds/articles', `/v1/feeds/articles?tag=${tag.slug}`, '/v1/feeds/articles?section=news', '/v1/feeds/timeline'];
const withFormat = (feed: string, format: string) => feed.replace(/(\?|$)/, `.${format}$1`);

const xml = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  htmlEntities: true, // so numeric character references are read too
  alwaysCreateTextNode: true,
  isArray: (name) => ['item', 'entry', 'category', 'author', 'link', 'dc:creator', 'enclosure'].includes(name),
});
type Node = { '#text'?: string; [attribute: `@_${string}`]: string | undefined; [child: string]: unknown };
/** An element's text; of a repeated one (links are arrays, for Atom), the first's. */
const text = (node: unknown): string => (Array.isArray(node) ? text(node[0]) : String((node as Node | undefined)?.['#text'] ?? '').trim());
const RFC_3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const absolute = (url: string | undefined) => typeof url === 'string' && /^https?:\/\/[^/]/.test(url);

async function fetched(t: Test, url: string) {
  const response = await app.inject({ url });
  t.equal(response.statusCode, 200, url);
  return response.body;
}

/** RSS 2.0: channel title, link and description (non-empty); each item a title or a description. */
function checkRss(t: Test, body: string) {
  const channel = xml.parse(body).rss.channel as Node;
  for (const name of ['title', 'link', 'description']) t.ok(text(channel[name]), `channel <${name}> is there and not empty`);
  for (const item of (channel.item ?? []) as Node[]) {
    t.ok(text(item.title) || text(item.description), 'an item has a title or a description');
    t.notOk(item.author, 'no <author>: RSS wants an e-mail address there');
    t.ok(absolute(text(item.link)), 'item links are absolute');
  }
  return channel;
}

/** Atom (RFC 4287): feed id, title, updated, author (or one per entry); entry id, title, updated; absolute links. */
function checkAtom(t: Test, body: string) {
  const feed = xml.parse(body).feed as Node;
  for (const name of ['id', 'title', 'updated']) t.ok(text(feed[name]), `feed <${name}>`);
  t.ok(RFC_3339.test(text(feed.updated)), 'feed <updated> is RFC 3339');
  const entries = (feed.entry ?? []) as Node[];
  const feedAuthor = ((feed.author ?? []) as Node[]).some((author) => text(author.name));
  t.ok(feedAuthor || entries.every((entry) => ((entry.author ?? []) as Node[]).length > 0), 'an author for every entry');
  for (const link of (feed.link ?? []) as Node[]) t.ok(absolute(link['@_href']), 'feed links are absolute');
  for (const entry of entries) {
    for (const name of ['id', 'title', 'updated']) t.ok(text(entry[name]), `entry <${name}>`);
    t.ok(RFC_3339.test(text(entry.updated)) && RFC_3339.test(text(entry.published)), 'entry dates are RFC 3339');
    t.ok(text(entry.updated) >= text(entry.published), 'updated is never before published');
    t.match(text(entry.id), /^urn:uuid:/, 'stable urn:uuid ids');
    for (const link of (entry.link ?? []) as Node[]) t.ok(absolute(link['@_href']), 'entry links are absolute');
  }
  return feed;
}

interface JsonFeedItem {
  id: string;
  url: string;
  title?: string;
  content_html?: string;
  content_text?: string;
  summary?: string;
  image?: string;
  date_published: string;
  date_modified: string;
  tags?: string[];
  authors?: { name: string }[];
}
interface JsonFeed {
  version: string;
  title: string;
  description: string;
  home_page_url: string;
  feed_url: string;
  language?: string;
  authors: { name: string }[];
  items: JsonFeedItem[];
}

/** JSON Feed 1.1: version, title, items; each item an id and content_html or content_text; RFC 3339 dates. */
function checkJsonFeed(t: Test, feed: JsonFeed) {
  t.equal(feed.version, 'https://jsonfeed.org/version/1.1');
  t.ok(feed.title, 'title');
  t.ok(Array.isArray(feed.items), 'items');
  for (const item of feed.items) {
    t.ok(item.id, 'item id');
    t.ok(typeof item.content_html === 'string' || typeof item.content_text === 'string', 'content_html or content_text');
    t.ok(RFC_3339.test(item.date_published) && RFC_3339.test(item.date_modified), 'dates are RFC 3339');
    t.ok(absolute(item.url), 'item url is absolute');
  }
}

const rssParser = new Parser({ customFields: { item: [['media:content', 'mediaContent'], ['category', 'atomCategories', { keepArray: true }]] } });
type ParsedItem = Parser.Item & { id?: string; creator?: string; mediaContent?: { $: Record<string, string> }; atomCategories?: { $: Record<string, string> }[] };

t.test('every feed: strict XML and the elements its format requires', async (t) => {
  for (const feed of FEEDS) {
    const rss = await fetched(t, withFormat(feed, 'rss'));
    t.same(xmlErrors(rss), [], `${feed} RSS is well-formed`);
    checkRss(t, rss);
    const atom = await fetched(t, withFormat(feed, 'atom'));
    t.same(xmlErrors(atom), [], `${feed} Atom is well-formed`);
    checkAtom(t, atom);
    checkJsonFeed(t, JSON.parse(await fetched(t, withFormat(feed, 'json'))) as JsonFeed);
    for (const body of [rss, atom]) {
      const parsed = await rssParser.parseString(body);
      t.ok(parsed.title, `${feed}: the aggregator finds a title`);
      t.ok(parsed.items.length > 0, `${feed}: and items`);
      for (const item of parsed.items) t.ok(item.title && item.link && item.isoDate, 'each with a title, a link and a date');
    }
  }
});

t.test('channel: the newsroom, the site, the language, the generator and the self link', async (t) => {
  const rss = checkRss(t, await fetched(t, '/v1/feeds/articles.rss'));
  t.equal(text(rss.title), 'Daily <Lede> & Co — Latest articles');
  t.equal(text(rss.link), `${SITE}/`);
  t.equal(text(rss.language), 'en');
  t.ok(text(rss.generator));
  t.equal((rss['atom:link'] as Node)['@_href'], `${API}/v1/feeds/articles.rss`);
  t.equal((rss['atom:link'] as Node)['@_rel'], 'self');

  const tagged = checkRss(t, await fetched(t, `/v1/feeds/articles.rss?tag=${tag.slug}`));
  t.equal(text(tagged.title), asXmlText(`Daily <Lede> & Co — Latest articles tagged Energy ${HOSTILE}`).trim(), "a tag feed names the tag's name");
  t.equal(text(tagged.link), `${SITE}/tags/${tag.slug}`, "a tag feed's page is the tag's page");

  const atom = xml.parse(await fetched(t, '/v1/feeds/articles.atom')).feed as Node;
  t.equal(atom['@_xml:lang'], 'en');
  t.same(((atom.author ?? []) as Node[]).map((author) => text(author.name)), ['Daily <Lede> & Co'], 'the newsroom is the feed author');
  t.ok(text(atom.generator));
  t.ok(((atom.link ?? []) as Node[]).some((link) => link['@_rel'] === 'alternate' && link['@_href'] === `${SITE}/`));
  t.ok(text(atom.subtitle), 'a subtitle says what the feed is');

  const feed = JSON.parse(await fetched(t, '/v1/feeds/timeline.json')) as JsonFeed;
  t.equal(feed.title, 'Daily <Lede> & Co — Latest news');
  t.ok(feed.description);
  t.equal(feed.home_page_url, `${SITE}/`);
  t.same(feed.authors, [{ name: 'Daily <Lede> & Co' }]);
});

t.test('items link to the site, with byline, tags and cover image as readers expect them', async (t) => {
  const expectedLink = `${SITE}/articles/${hostile.slug}`;
  const rss = await rssParser.parseString(await fetched(t, '/v1/feeds/articles.rss'));
  const item = rss.items.find((candidate) => candidate.guid === `urn:uuid:${hostile.id}`) as ParsedItem;
  t.equal(item.link, expectedLink);
  t.ok(rss.items.every((candidate) => candidate.link?.startsWith(`${SITE}/`)), 'every item links to the site');
  t.equal(item.title, asXmlText(`Grid ${HOSTILE}`));
  t.equal(item.creator, asXmlText(`Олена ${HOSTILE}`), 'dc:creator');
  t.same(item.categories, [asXmlText(`Energy ${HOSTILE}`)]);
  t.same(item.enclosure, { url: cover.url, type: 'image/jpeg', length: '0' });
  t.equal(item.mediaContent?.$.url, cover.url, 'Media RSS');

  const atom = await rssParser.parseString(await fetched(t, '/v1/feeds/articles.atom'));
  const entry = atom.items.find((candidate) => (candidate as ParsedItem).id === `urn:uuid:${hostile.id}`) as ParsedItem;
  t.equal(entry.link, expectedLink);
  t.same(entry.atomCategories?.map((category) => category.$.label), [asXmlText(`Energy ${HOSTILE}`)]);
  const atomEntry = ((xml.parse(await fetched(t, '/v1/feeds/articles.atom')).feed.entry ?? []) as Node[]).find((candidate) => text(candidate.id) === `urn:uuid:${hostile.id}`);
  t.ok(((atomEntry?.link ?? []) as Node[]).some((link) => link['@_rel'] === 'enclosure' && link['@_href'] === cover.url && link['@_type'] === 'image/jpeg'));

  const feed = JSON.parse(await fetched(t, '/v1/feeds/articles.json')) as JsonFeed;
  const jsonItem = feed.items.find((candidate) => candidate.id === `urn:uuid:${hostile.id}`);
  t.equal(jsonItem?.url, expectedLink);
  t.equal(jsonItem?.image, cover.url);
  t.equal(jsonItem?.summary, `Lead ${HOSTILE}`);

  const timeline = JSON.parse(await fetched(t, '/v1/feeds/timeline.json')) as JsonFeed;
  const line = timeline.items.find((candidate) => candidate.title === `Grid ${HOSTILE}`);
  t.equal(line?.url, expectedLink, "an article's timeline entry links to its page");
  t.ok(timeline.items.every((candidate) => typeof candidate.content_text === 'string' && candidate.content_text.length > 0), 'timeline items carry text');
});

t.test('an edit of a live article shows as a change, its publication stays', async (t) => {
  const entryOf = async () => {
    const feed = xml.parse(await fetched(t, '/v1/feeds/articles.atom')).feed as Node;
    const entry = ((feed.entry ?? []) as Node[]).find((candidate) => text(candidate.id) === `urn:uuid:${hostile.id}`)!;
    return { published: text(entry.published), updated: text(entry.updated), feedUpdated: text(feed.updated) };
  };
  const jsonOf = async () => (JSON.parse(await fetched(t, '/v1/feeds/articles.json')) as JsonFeed).items.find((item) => item.id === `urn:uuid:${hostile.id}`)!;
  const pubDateOf = async () => (await rssParser.parseString(await fetched(t, '/v1/feeds/articles.rss'))).items.find((item) => item.guid === `urn:uuid:${hostile.id}`)!.pubDate;

  const before = { atom: await entryOf(), json: await jsonOf(), pubDate: await pubDateOf() };
  await new Promise((resolve) => setTimeout(resolve, 20));
  const edit = await app.inject({ method: 'PATCH', url: `/v1/articles/${hostile.id}`, headers: { ...editor, 'if-match': '"v2"' }, payload: { title: 'Grid: power is back' } });
  t.equal(edit.statusCode, 200, edit.body);

  const after = { atom: await entryOf(), json: await jsonOf(), pubDate: await pubDateOf() };
  t.equal(after.atom.published, before.atom.published, 'Atom <published> stays');
  t.ok(after.atom.updated > before.atom.updated, 'Atom <updated> moves');
  t.equal(after.atom.feedUpdated, after.atom.updated, 'the feed is as new as its newest change');
  t.equal(after.json.date_published, before.json.date_published, 'date_published stays');
  t.ok(after.json.date_modified > before.json.date_modified, 'date_modified moves');
  t.equal(after.pubDate, before.pubDate, 'RSS pubDate is the publication');
});
