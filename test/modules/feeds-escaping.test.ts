import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t, { type Test } from 'tap';
import { buildTestApp, json } from '../helper.js';
import { asXmlText, xmlErrors } from '../strict-xml.js';

/**
 * Plain-text fields reach every feed as text: a hostile corpus in titles, leads, bylines, tag names
 * and timeline lines leaves each feed well-formed for a strict parser, adds no item, and reads back
 * exactly as sent (less the few characters XML cannot carry at all).
 */
const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

const IMG = '<img src=x onerror=alert(1)>';
const RLM = '\u200F';
const FORGED_INSIDE = ']]><item><title>x</title><link>https://evil.example</link></item><![CDATA[';
const FORGED_SIBLING = 'A ]]> B ]]></title></item><item><title>Forged</title><link>https://evil.example</link></item><item><title><![CDATA[C';
const WORLD = `Київ 🇺🇦 ${RLM}عاجل: خبر عن كييف${RLM} &amp; "quotes'`;

async function created<T = { id: string; slug: string }>(url: string, payload: Record<string, unknown>): Promise<T> {
  const response = await app.inject({ method: 'POST', url, headers: editor, payload });
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return json<T>(response);
}

const tags = [
  await created('/v1/tags', { name: 'C<C++' }),
  await created('/v1/tags', { name: `T ${FORGED_INSIDE}` }),
  await created('/v1/tags', { name: WORLD }),
];
const tagNames = new Map([
  [tags[0]!.id, 'C<C++'],
  [tags[1]!.id, `T ${FORGED_INSIDE}`],
  [tags[2]!.id, WORLD],
]);

interface Sent {
  title: string;
  lead: string;
  byline: string;
  tagIds: string[];
  section?: string;
}
const sent: Sent[] = [
  { title: FORGED_SIBLING, lead: `${IMG} & ]]> twice ]]> ${FORGED_INSIDE}`, byline: `<b>Олена</b> & ${RLM}عاجل 🇺🇦`, tagIds: [tags[0]!.id, tags[1]!.id], section: 'news' },
  { title: `${WORLD} ${IMG}`, lead: FORGED_SIBLING, byline: `C<C++ "quotes' &amp;`, tagIds: [tags[0]!.id, tags[2]!.id] },
  { title: `Controls\u0007 vertical\u000B tab\tand U+FFFF\uFFFF ${FORGED_INSIDE}`, lead: `${WORLD}\u0001`, byline: IMG, tagIds: [tags[2]!.id], section: 'news' },
];
for (const article of sent) {
  const { id } = await created('/v1/articles', { ...article, body: [{ type: 'paragraph', text: 'Body & text' }] });
  const published = await app.inject({ method: 'POST', url: `/v1/articles/${id}/publish`, headers: { ...editor, 'if-match': '"v1"' }, payload: {} });
  if (published.statusCode !== 200) throw new Error(`publish: ${published.statusCode} ${published.body}`);
}
const flash = { title: `${FORGED_SIBLING} ${IMG}`, url: 'https://example.com/live?a=1&b=%22x%22' };
await created('/v1/timeline', flash);

const parser = new XMLParser({
  ignoreAttributes: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  htmlEntities: true, // so numeric character references are read too
  alwaysCreateTextNode: true,
  isArray: (name) => ['item', 'entry', 'category', 'author', 'dc:creator'].includes(name),
});

type Node = { '#text'?: string; [attribute: `@_${string}`]: string | undefined };
const text = (node: Node | string | undefined) => (typeof node === 'string' ? node : (node?.['#text'] ?? ''));
const sorted = (values: string[]) => [...values].sort();

/** The text an HTML reader shows for an HTML fragment that has no markup (RSS descriptions are HTML). */
function shownText(html: string): string {
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (reference: string, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return named[name] ?? reference;
  });
}

async function xmlFeed(t: Test, url: string) {
  const response = await app.inject({ url });
  t.equal(response.statusCode, 200, url);
  t.same(xmlErrors(response.body), [], `${url} is well-formed for a strict XML parser`);
  t.equal(XMLValidator.validate(response.body), true, `${url} passes XMLValidator`);
  t.notMatch(response.body, /<img/i, 'no <img> as markup anywhere in the document');
  t.notMatch(response.body, /evil\.example<\/link>|href="https:\/\/evil/, 'no forged link');
  return { body: response.body, document: parser.parse(response.body) };
}

const selected = (filter: (article: Sent) => boolean) => sent.filter(filter);
const articleFeeds: { query: string; expected: Sent[] }[] = [
  { query: '', expected: sent },
  { query: `?tag=${tags[0]!.slug}`, expected: selected((article) => article.tagIds.includes(tags[0]!.id)) },
  { query: `?tag=${tags[1]!.slug}`, expected: selected((article) => article.tagIds.includes(tags[1]!.id)) },
  { query: '?section=news', expected: selected((article) => article.section === 'news') },
];

t.test('RSS 2.0 article feeds', async (t) => {
  for (const { query, expected } of articleFeeds) {
    const { document } = await xmlFeed(t, `/v1/feeds/articles.rss${query}`);
    const items = (document.rss.channel.item ?? []) as Record<string, Node | Node[]>[];
    t.equal(items.length, expected.length, `${query}: exactly the articles published, no forged item`);
    t.same(sorted(items.map((item) => text(item.title as Node))), sorted(expected.map((article) => asXmlText(article.title))), 'titles read back');
    for (const item of items) {
      const article = expected.find((candidate) => asXmlText(candidate.title) === text(item.title as Node));
      t.ok(article, `an item titled ${JSON.stringify(text(item.title as Node))} was sent`);
      if (!article) continue;
      const description = text(item.description as Node);
      t.notMatch(description, /</, 'the lead is not markup in the description (HTML by convention)');
      t.equal(shownText(description), asXmlText(article.lead), 'the lead reads back as sent');
      t.same(((item['dc:creator'] ?? []) as Node[]).map(text), [asXmlText(article.byline)], 'byline as dc:creator');
      t.notOk(item.author, 'no byline in <author>, which RSS keeps for e-mail addresses');
      t.same(((item.category ?? []) as Node[]).map(text), article.tagIds.map((id) => asXmlText(tagNames.get(id)!)), 'categories');
      t.match(text(item.link as Node), /\/v1\/articles\//);
    }
  }
});

t.test('Atom 1.0 article feeds: plain text is type="text"', async (t) => {
  for (const { query, expected } of articleFeeds) {
    const { document } = await xmlFeed(t, `/v1/feeds/articles.atom${query}`);
    t.equal(document.feed.title['@_type'], 'text', 'the feed title is text');
    const entries = (document.feed.entry ?? []) as Record<string, Node | Node[]>[];
    t.equal(entries.length, expected.length, `${query}: exactly the articles published, no forged entry`);
    for (const entry of entries) {
      const title = entry.title as Node;
      const article = expected.find((candidate) => asXmlText(candidate.title) === text(title));
      t.ok(article, `an entry titled ${JSON.stringify(text(title))} was sent`);
      if (!article) continue;
      t.equal(title['@_type'], 'text');
      t.equal((entry.summary as Node | undefined)?.['@_type'], 'text');
      t.equal(text(entry.summary as Node), asXmlText(article.lead), 'summary');
      t.same(((entry.author ?? []) as unknown as { name: Node }[]).map((author) => text(author.name)), [asXmlText(article.byline)], 'byline');
      t.same(
        ((entry.category ?? []) as Node[]).map((category) => category['@_label']),
        article.tagIds.map((id) => asXmlText(tagNames.get(id)!)),
        'category labels',
      );
      t.equal((entry.content as Node)['@_type'], 'html', 'the body stays HTML');
      t.equal(text(entry.content as Node), '<p>Body &amp; text</p>');
    }
  }
});

t.test('JSON Feed 1.1 article feeds carry the text exactly', async (t) => {
  for (const { query, expected } of articleFeeds) {
    const feed = json<{ items: { title: string; summary: string; tags: string[]; authors: { name: string }[] }[] }>(
      await app.inject({ url: `/v1/feeds/articles.json${query}` }),
    );
    t.equal(feed.items.length, expected.length, query);
    for (const item of feed.items) {
      const article = expected.find((candidate) => candidate.title === item.title);
      t.ok(article, `an item titled ${JSON.stringify(item.title)} was sent`);
      if (!article) continue;
      t.equal(item.summary, article.lead);
      t.same(item.authors, [{ name: article.byline }]);
      t.same(item.tags, article.tagIds.map((id) => tagNames.get(id)));
    }
  }
});

t.test('timeline feeds', async (t) => {
  const titles = sorted([...sent.map((article) => article.title), flash.title]);
  const rss = (await xmlFeed(t, '/v1/feeds/timeline.rss')).document.rss.channel;
  t.same(sorted((rss.item as Record<string, Node>[]).map((item) => text(item.title))), titles.map(asXmlText), 'RSS: every entry, nothing forged');
  t.ok((rss.item as Record<string, Node>[]).some((item) => text(item.link) === flash.url), 'a flash line links to its url');

  const atom = (await xmlFeed(t, '/v1/feeds/timeline.atom')).document.feed;
  const entries = atom.entry as Record<string, Node>[];
  t.same(sorted(entries.map((entry) => text(entry.title))), titles.map(asXmlText), 'Atom: every entry, nothing forged');
  t.ok(entries.every((entry) => entry.title?.['@_type'] === 'text'), 'titles are text');
  t.ok(entries.some((entry) => (entry.link as Node | undefined)?.['@_href'] === flash.url), 'a flash line links to its url');

  const feed = json<{ items: { title: string }[] }>(await app.inject({ url: '/v1/feeds/timeline.json' }));
  t.same(sorted(feed.items.map((item) => item.title)), titles, 'JSON: exact titles');
});
