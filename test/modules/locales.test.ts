import t from 'tap';
import { buildTestApp, json } from '../helper.js';

/**
 * One locale rule (docs/adr/0009-locales.md): lists and feeds without `locale` cover every locale;
 * a slug lookup without it finds the slug in DEFAULT_LOCALE first, else in the one locale that has
 * it; an article's tags are in its locale, named by id or by slug alike.
 */

type Article = { id: string; slug: string; locale: string; version: number; tags: { id: string }[] };
type Tag = { id: string; slug: string; locale: string; version: number };
type Problem = { code: string; errors?: { path: string }[] };

const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor', 'Locale desk');

async function tag(name: string, locale: string, slug?: string): Promise<Tag> {
  const response = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name, locale, ...(slug ? { slug } : {}) } });
  if (response.statusCode !== 201) throw new Error(`tag: ${response.body}`);
  return json<Tag>(response);
}

async function live(payload: Record<string, unknown>): Promise<Article> {
  const created = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload });
  if (created.statusCode !== 201) throw new Error(`article: ${created.body}`);
  const article = json<Article>(created);
  const published = await app.inject({
    method: 'POST',
    url: `/v1/articles/${article.id}/publish`,
    headers: { ...editor, 'if-match': String(created.headers.etag) },
  });
  return json<Article>(published);
}

t.test('a tag slug without locale: DEFAULT_LOCALE first, else the one locale that has it', async (t) => {
  const rosiia = await tag('Росія', 'uk');
  const found = await app.inject({ url: '/v1/tags/rosiia' });
  t.equal(found.statusCode, 200, 'only uk has it: found without ?locale=uk');
  t.equal(json<Tag>(found).id, rosiia.id);
  t.ok(String(found.headers['surrogate-key']).split(' ').includes('tags'), 'a tag taking the slug in DEFAULT_LOCALE later purges it');

  const english = await tag('Rosiia (en)', 'en', 'rosiia');
  t.equal(json<Tag>(await app.inject({ url: '/v1/tags/rosiia' })).id, english.id, 'DEFAULT_LOCALE wins');
  t.equal(json<Tag>(await app.inject({ url: '/v1/tags/rosiia?locale=uk' })).id, rosiia.id, 'a locale names one');

  await tag('Kharkiv', 'uk', 'kharkiv');
  await tag('Charkov', 'pl', 'kharkiv');
  const ambiguous = await app.inject({ url: '/v1/tags/kharkiv' });
  t.equal(ambiguous.statusCode, 404, 'several locales and none the default');
  t.equal(json<Problem>(ambiguous).code, 'TAG_NOT_FOUND');
  t.same(json<Problem>(ambiguous).errors?.map((e) => e.path), ['query.locale'], 'the answer says to name a locale');
  t.equal((await app.inject({ url: '/v1/tags/kharkiv?locale=pl' })).statusCode, 200);
});

t.test('an article slug without locale: the same rule, former slugs included', async (t) => {
  const uk = await live({ title: 'Обстріл Харкова', locale: 'uk' });
  const found = await app.inject({ url: `/v1/articles/${uk.slug}` });
  t.equal(found.statusCode, 200, 'only uk has it');
  t.equal(json<Article>(found).id, uk.id);
  t.ok(String(found.headers['surrogate-key']).split(' ').includes('articles'), 'an article taking the slug in DEFAULT_LOCALE later purges it');

  const en = await live({ title: 'Obstril Kharkova', locale: 'en' });
  t.equal(en.slug, uk.slug, 'the same slug in en');
  t.equal(json<Article>(await app.inject({ url: `/v1/articles/${uk.slug}` })).id, en.id, 'DEFAULT_LOCALE wins, also past the response cache');

  const renamed = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${uk.id}`,
    headers: { ...editor, 'if-match': `"v${uk.version}"` },
    payload: { slug: 'obstril-kharkova-2' },
  });
  t.equal(renamed.statusCode, 200);
  const onlyFormer = await live({ title: 'Only former', locale: 'uk', slug: 'only-former' });
  await app.inject({ method: 'PATCH', url: `/v1/articles/${onlyFormer.id}`, headers: { ...editor, 'if-match': `"v${onlyFormer.version}"` }, payload: { slug: 'only-current' } });
  const moved = await app.inject({ url: '/v1/articles/only-former' });
  t.equal(moved.statusCode, 301, 'a former slug in the one locale that has it');
  t.equal(moved.headers.location, '/v1/articles/only-current?locale=uk');

  await live({ title: 'Zaporizhzhia', locale: 'uk', slug: 'zaporizhzhia' });
  await live({ title: 'Zaporoże', locale: 'pl', slug: 'zaporizhzhia' });
  const ambiguous = await app.inject({ url: '/v1/articles/zaporizhzhia' });
  t.equal(ambiguous.statusCode, 404);
  t.same(json<Problem>(ambiguous).errors?.map((e) => e.path), ['query.locale']);
  t.equal((await app.inject({ url: '/v1/articles/zaporizhzhia?locale=pl' })).statusCode, 200);

  const draft = json<Article>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Hidden in fi', locale: 'fi' } }));
  t.equal((await app.inject({ url: `/v1/articles/${draft.slug}` })).statusCode, 404, 'anonymous readers find no draft in another locale');
  t.equal((await app.inject({ url: `/v1/articles/${draft.slug}`, headers: editor })).statusCode, 200, 'editors do');
});

t.test('lists and feeds without locale cover every locale', async (t) => {
  const lv = await live({ title: 'Latvian story', locale: 'lv' });
  const en = await live({ title: 'English story for feeds', locale: 'en' });
  const ids = async (url: string) => json<{ data: { id: string }[] }>(await app.inject({ url })).data.map((item) => item.id);
  t.ok((await ids('/v1/articles?limit=100')).includes(lv.id), 'articles');
  t.notOk((await ids('/v1/articles?limit=100&locale=en')).includes(lv.id), 'articles in one locale');
  const timeline = json<{ data: { articleId: string | null }[] }>(await app.inject({ url: '/v1/timeline?limit=100' })).data.map((e) => e.articleId);
  t.ok(timeline.includes(lv.id), 'timeline');
  for (const format of ['rss', 'atom', 'json']) {
    const feed = (await app.inject({ url: `/v1/feeds/articles.${format}` })).body;
    t.ok(feed.includes('Latvian story') && feed.includes('English story for feeds'), `articles.${format}: every locale`);
    const english = (await app.inject({ url: `/v1/feeds/articles.${format}?locale=en` })).body;
    t.ok(!english.includes('Latvian story') && english.includes('English story for feeds'), `articles.${format}?locale=en: one`);
    const lines = (await app.inject({ url: `/v1/feeds/timeline.${format}` })).body;
    t.ok(lines.includes('Latvian story'), `timeline.${format}: every locale`);
  }
  const mixed = json<{ language?: string }>(await app.inject({ url: '/v1/feeds/articles.json' }));
  t.equal(mixed.language, undefined, 'a feed of several languages names none');
  t.equal(json<{ language?: string }>(await app.inject({ url: '/v1/feeds/articles.json?locale=lv' })).language, 'lv');
  t.ok(en.id);
});

t.test("an article's tags are in its locale, by id as by slug", async (t) => {
  const ukTag = await tag('Енергетика', 'uk', 'enerhetyka');
  const enTag = await tag('Energy grid', 'en', 'energy-grid');
  const byId = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Grid (en)', tagIds: [enTag.id, ukTag.id] } });
  t.equal(byId.statusCode, 422, 'a uk tag on an en article, by id');
  t.equal(json<Problem>(byId).code, 'UNKNOWN_REFERENCE');
  t.same(json<Problem>(byId).errors?.map((e) => e.path), ['body.tagIds.1']);
  const bySlug = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Grid (en)', tagSlugs: ['enerhetyka'] } });
  t.equal(bySlug.statusCode, 422, 'and by slug');
  t.same(json<Problem>(bySlug).errors?.map((e) => e.path), ['body.tagSlugs.0']);

  const article = json<Article>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Grid', tagIds: [enTag.id] } }));
  const moveAlone = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${article.id}`,
    headers: { ...editor, 'if-match': `"v${article.version}"` },
    payload: { locale: 'uk' },
  });
  t.equal(moveAlone.statusCode, 422, 'moving to uk while carrying en tags');
  t.same(json<Problem>(moveAlone).errors?.map((e) => e.path), ['body.locale']);
  const moveWithTags = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${article.id}`,
    headers: { ...editor, 'if-match': `"v${article.version}"` },
    payload: { locale: 'uk', tagIds: [ukTag.id] },
  });
  t.equal(moveWithTags.statusCode, 200, 'with tags of the new locale');
  t.same(json<Article>(moveWithTags).tags.map((x) => x.id), [ukTag.id]);

  const carried = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${ukTag.id}`,
    headers: { ...editor, 'if-match': `"v${ukTag.version}"` },
    payload: { locale: 'en' },
  });
  t.equal(carried.statusCode, 409, 'a tag articles carry keeps their locale');
  t.equal(json<Problem>(carried).code, 'TAG_IN_USE');
  const free = await tag('Free tag', 'uk', 'free-tag');
  const moved = await app.inject({ method: 'PATCH', url: `/v1/tags/${free.id}`, headers: { ...editor, 'if-match': `"v${free.version}"` }, payload: { locale: 'en' } });
  t.equal(moved.statusCode, 200, 'a tag no article carries moves freely');
});

t.test('every locale parameter says the rule', async (t) => {
  type Parameter = { in: string; name: string; description?: string };
  const paths = json<{ paths: Record<string, Record<string, { operationId?: string; parameters?: Parameter[] }>> }>(await app.inject({ url: '/openapi.json' })).paths;
  let seen = 0;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const locale = operation.parameters?.find((p) => p.in === 'query' && p.name === 'locale');
      if (!locale) continue;
      seen += 1;
      const lookup = ['getArticle', 'getTag', 'updateArticle', 'deleteArticle', 'updateTag', 'deleteTag'].includes(operation.operationId ?? '');
      t.match(locale.description, lookup ? /DEFAULT_LOCALE first/ : /every locale/, `${operation.operationId}: ${locale.description}`);
    }
  }
  t.ok(seen >= 7, `${seen} operations take a locale`);
});
