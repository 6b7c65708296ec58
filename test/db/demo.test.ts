import t from 'tap';
import { isEmptyDatabase, loadDemoContent } from '../../src/db/demo/load-demo.js';
import { buildTestApp, json } from '../helper.js';

const SLUG = 'blinken-and-lavrov-discuss-nuclear-deal-ukraine-on-sidelines-of-g20-summit';

t.test('the seed article loads as a published article with all of its parts', async (t) => {
  const { app, config } = await buildTestApp(t);
  const db = app.database.db;
  t.equal(await isEmptyDatabase(db), true);
  t.same(await loadDemoContent(db, { locale: config.DEFAULT_LOCALE }), { articlesCreated: 1 });
  t.equal(await isEmptyDatabase(db), false);
  t.same(await loadDemoContent(db, { locale: config.DEFAULT_LOCALE }), { articlesCreated: 0 }, 'loading twice adds nothing');

  const response = await app.inject({ url: `/v1/articles/${SLUG}?format=html` });
  t.equal(response.statusCode, 200);
  const article = json<{
    title: string;
    lead: string;
    status: string;
    section: string;
    publishedAt: string;
    sources: { name: string }[];
    body: { type: string; text?: string; attribution?: string; style?: string; items?: string[] }[];
    bodyHtml: string;
  }>(response);
  t.equal(article.title, 'Blinken and Lavrov discuss nuclear deal, Ukraine on sidelines of G20 summit');
  t.match(article.lead, /^US Secretary of State Antony Blinken and Russian Foreign Minister Sergei Lavrov/);
  t.equal(article.status, 'published');
  t.equal(article.section, 'news');
  t.equal(article.publishedAt, '2023-03-02T17:59:00.000Z', '19:59 Kyiv time');
  t.same(article.sources.map((s) => s.name), ['Reuters', 'CNN']);
  t.equal(article.body.filter((b) => b.type === 'paragraph').length, 9);
  const quotes = article.body.filter((b) => b.type === 'quote');
  t.equal(quotes.length, 2);
  t.ok(quotes.every((q) => q.attribution?.startsWith('Antony Blinken')));
  const bullet = article.body.at(-1);
  t.equal(bullet?.style, 'bullet');
  t.match(bullet?.items?.[0], /Annalena Baerbock calls on Sergei Lavrov/);
  t.notMatch(response.body, 'client/title.list_title', 'the leaked template key never reaches a reader');
  t.match(article.bodyHtml, /^<p>Reuters reports/);
});
