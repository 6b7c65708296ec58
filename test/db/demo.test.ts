import t from 'tap';
import { isEmptyDatabase, loadDemoContent } from '../../src/db/demo/load-demo.js';
import { buildTestApp, json } from '../helper.js';

const SLUG = 'blinken-and-lavrov-discuss-nuclear-deal-ukraine-on-sidelines-of-g20-summit';

t.test('the seed article loads as a published article with all of its parts', async (t) => {
  const { app, config } = await buildTestApp(t);
  const db = app.database.db;
  t.equal(await isEmptyDatabase(db), true);
  t.same(await loadDemoContent(db, { locale: config.DEFAULT_LOCALE }), { articlesCreated: 1, timelineEntriesCreated: 40 });
  t.equal(await isEmptyDatabase(db), false);
  t.same(await loadDemoContent(db, { locale: config.DEFAULT_LOCALE }), { articlesCreated: 0, timelineEntriesCreated: 0 }, 'loading twice adds nothing');

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

t.test("the seed page's timeline is served grouped by Kyiv day exactly as on the page", async (t) => {
  const { app, config } = await buildTestApp(t);
  await loadDemoContent(app.database.db, { locale: config.DEFAULT_LOCALE });
  const response = await app.inject({ url: '/v1/timeline?groupBy=day&limit=100' });
  t.equal(response.statusCode, 200);
  const { days, nextCursor } = json<{ days: { date: string; entries: { title: string; label: string | null; occurredAt: string }[] }[]; nextCursor: string | null }>(response);
  t.equal(nextCursor, null);
  t.same(days.map((day) => [day.date, day.entries.length]), [['2024-11-22', 22], ['2024-11-21', 18]]);
  const first = days[0]!.entries;
  t.equal(first[0]?.title, 'Ukraine intel reveals new details of Russian ballistic missile used to strike Dnipro');
  t.equal(first[0]?.occurredAt, '2024-11-22T14:30:00.000Z', '16:30 in Kyiv');
  t.same([first[3]?.title, first[3]?.label], ['Game of chicken', 'opinion']);
  t.equal(first[4]?.label, 'exclusive');
  t.equal(days[1]!.entries.at(-1)?.title, 'Volunteer-turned-spy sentenced to 15 years for FSB espionage');
  const labels = days.flatMap((day) => day.entries.map((entry) => entry.label)).filter(Boolean);
  t.same([...new Set(labels)].sort(), ['exclusive', 'opinion', 'review', 'updated']);
});

t.test('processes starting together on an empty database load the demo content once, and none fails', async (t) => {
  const { app, config } = await buildTestApp(t);
  const db = app.database.db;
  const results = await Promise.all([1, 2, 3].map(() => loadDemoContent(db, { locale: config.DEFAULT_LOCALE })));
  t.same(
    results.reduce((sum, result) => ({ articlesCreated: sum.articlesCreated + result.articlesCreated, timelineEntriesCreated: sum.timelineEntriesCreated + result.timelineEntriesCreated })),
    { articlesCreated: 1, timelineEntriesCreated: 40 },
  );
});
