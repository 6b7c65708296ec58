import t, { type Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, json } from '../helper.js';

type Problem = { status: number; code: string; errors?: { path: string; message: string }[] };
type Block = { type: string; text?: string; items?: string[]; url?: string; caption?: string };
type Article = { id: string; title: string; version: number; body: Block[]; sources: { url?: string }[]; coverImage: { url: string } | null };

// Embeds are restricted in this app; the second one below has no list.
const { app, authAs } = await buildTestApp(t, { env: { EMBED_HOSTS: 'www.youtube.com, Player.Vimeo.com' } });
const editor = await authAs('editor');
const admin = await authAs('admin');

const LONE_HIGH = '\ud800';
const LONE_LOW = '\udc00';
const IMAGE = 'https://images.example/a.png';

const post = (url: string, payload: unknown, headers: Record<string, string> = editor) =>
  app.inject({ method: 'POST', url, headers, payload: payload as object });

/** A 400 VALIDATION_FAILED whose errors name exactly `paths`. */
function assertRejected(t: Test, response: LightMyRequestResponse, paths: string[]): Problem {
  t.equal(response.statusCode, 400, `400 for ${paths.join(', ')}`);
  t.match(response.headers['content-type'], /^application\/problem\+json/);
  const problem = json<Problem>(response);
  t.equal(problem.code, 'VALIDATION_FAILED');
  t.same(problem.errors?.map((error) => error.path), paths);
  return problem;
}

async function created(t: Test, payload: object): Promise<Article> {
  const response = await post('/v1/articles', payload);
  t.equal(response.statusCode, 201, response.statusCode === 201 ? 'created' : response.body);
  return json<Article>(response);
}

async function articleTitles(q: string): Promise<string[]> {
  const page = json<{ data: { title: string }[] }>(await app.inject({ url: `/v1/articles?q=${q}`, headers: editor }));
  return page.data.map((article) => article.title);
}

t.test('a lone surrogate anywhere in a JSON body is 400 with its path, and nothing is written', async (t) => {
  const cases: [string, unknown, string][] = [
    ['/v1/articles', { title: 'Surrogate title', body: [{ type: 'paragraph', text: `a${LONE_HIGH}b` }] }, 'body.body.0.text'],
    ['/v1/articles', { title: 'Surrogate source', sources: [{ name: `Agency ${LONE_LOW}` }] }, 'body.sources.0.name'],
    ['/v1/articles', { title: 'Surrogate alt', coverImage: { url: IMAGE, alt: LONE_HIGH } }, 'body.coverImage.alt'],
    ['/v1/articles', { title: `Surrogate ${LONE_HIGH} in title` }, 'body.title'],
    // Two halves in the wrong order are two lone surrogates, not a pair.
    ['/v1/articles', { title: 'Surrogate list', body: [{ type: 'list', style: 'bullet', items: ['ok', `${LONE_LOW}${LONE_HIGH}`] }] }, 'body.body.0.items.1'],
    ['/v1/tags', { name: `Tag ${LONE_HIGH}`, locale: 'mt' }, 'body.name'],
    ['/v1/timeline', { title: `Flash ${LONE_LOW}`, locale: 'mt' }, 'body.title'],
  ];
  for (const [url, payload, path] of cases) assertRejected(t, await post(url, payload), [path]);
  assertRejected(t, await post('/v1/keys', { name: `Key ${LONE_HIGH}`, role: 'reader' }, admin), ['body.name']);
  // In a field name: the object holding it is named.
  const inKey = await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: { ...editor, 'content-type': 'application/json' },
    payload: '{"title":"Surrogate key","coverImage":{"url":"https://images.example/a.png","alt":"","\\ud800":1}}',
  });
  assertRejected(t, inKey, ['body.coverImage']);

  t.same(await articleTitles('Surrogate'), [], 'no article was written');
  t.same(json<{ data: unknown[] }>(await app.inject({ url: '/v1/tags?locale=mt' })).data, [], 'no tag was written');
  t.same(json<{ data: unknown[] }>(await app.inject({ url: '/v1/timeline?locale=mt' })).data, [], 'no entry was written');

  // A proper pair (an emoji) is just text.
  const emoji = await created(t, { title: 'Surrogate pair 😀', body: [{ type: 'paragraph', text: 'ok 😀' }] });
  t.equal(emoji.title, 'Surrogate pair 😀');
  t.equal(emoji.body[0]?.text, 'ok 😀');
});

t.test('a lone surrogate in an update is 400 and leaves the article as it was', async (t) => {
  const article = await created(t, { title: 'Clean before' });
  const response = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${article.id}`,
    headers: { ...editor, 'if-match': `"v${article.version}"` },
    payload: { body: [{ type: 'image', url: IMAGE, alt: `x${LONE_HIGH}` }] },
  });
  assertRejected(t, response, ['body.body.0.alt']);
  const after = json<Article>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.equal(after.version, article.version, 'nothing was written');
});

t.test('a surrogate encoded in a query string or path is never a 500', async (t) => {
  // %ED%A0%80 is U+D800 encoded as if it were a character: not valid UTF-8. In a path it is
  // refused; in a query string the parser keeps such a value as the literal text sent.
  for (const url of ['/v1/articles/%ED%A0%80', '/v1/tags/%ED%A0%80', '/v1/timeline/%ED%B0%80']) {
    const response = await app.inject({ url, headers: editor });
    t.equal(response.statusCode, 400, url);
    t.equal(json<Problem>(response).code, 'VALIDATION_FAILED', url);
  }
  for (const url of ['/v1/articles?q=%ED%A0%80', '/v1/articles?q=a%ED%B0%80b', '/v1/tags?q=%ED%A0%80', '/v1/timeline?tz=%ED%A0%80', '/v1/articles?q=%5Cud800']) {
    const response = await app.inject({ url, headers: editor });
    t.ok(response.statusCode < 500, `${url}: ${response.statusCode}`);
  }
  t.same(json<{ data: unknown[] }>(await app.inject({ url: '/v1/articles?q=%ED%A0%80', headers: editor })).data, []);
});

t.test('inline links keep only absolute http, https and mailto targets', async (t) => {
  const links = [
    '<a href="/relative">root</a>',
    '<a href="page.html">page</a>',
    '<a href="//evil.example/x">proto</a>',
    '<a href="#frag">frag</a>',
    '<a href="ftp://files.example/x">ftp</a>',
    '<a href="https://user:pw@news.example/x">userinfo</a>',
    '<a href=" https://news.example/a b?q=&quot;&gt;">kept</a>',
    '<a href="MAILTO:desk@news.example">mail</a>',
  ];
  const article = await created(t, { title: 'Links', body: [{ type: 'paragraph', text: links.join(' ') }] });
  t.equal(
    article.body[0]?.text,
    'root page proto frag ftp userinfo <a href="https://news.example/a%20b?q=%22%3E">kept</a> <a href="mailto:desk@news.example">mail</a>',
  );
});

t.test('inline text has documented limits, so sanitising any accepted body is quick', async (t) => {
  const tooLong = (max: number) => 'x'.repeat(max + 1);
  assertRejected(t, await post('/v1/articles', { title: 'Long paragraph', body: [{ type: 'paragraph', text: tooLong(10_000) }] }), ['body.body.0.text']);
  assertRejected(t, await post('/v1/articles', { title: 'Long quote', body: [{ type: 'quote', text: tooLong(10_000) }] }), ['body.body.0.text']);
  assertRejected(t, await post('/v1/articles', { title: 'Long item', body: [{ type: 'list', style: 'bullet', items: ['ok', tooLong(2_000)] }] }), ['body.body.0.items.1']);
  // Each block within its own limit, the body past the total.
  const paragraphs = Array.from({ length: 11 }, () => ({ type: 'paragraph', text: 'y'.repeat(10_000) }));
  assertRejected(t, await post('/v1/articles', { title: 'Long body', body: paragraphs }), ['body.body']);

  // The worst body still accepted: the whole budget spent on dense markup.
  const dense = '<b>x</b>'.repeat(10_000 / 8);
  const started = performance.now();
  const accepted = await created(t, { title: 'Dense markup', body: Array.from({ length: 10 }, () => ({ type: 'paragraph', text: dense })) });
  const elapsed = performance.now() - started;
  t.equal(accepted.body.length, 10);
  t.ok(elapsed < 1_000, `the densest accepted body is written in ${Math.round(elapsed)} ms`);
});

t.test('URLs are parsed, normalised and refused with credentials', async (t) => {
  const withCredentials = 'https://trusted.example@evil.example/x.png';
  for (const [payload, path] of [
    [{ title: 'Creds image', body: [{ type: 'image', url: withCredentials, alt: '' }] }, 'body.body.0.url'],
    [{ title: 'Creds embed', body: [{ type: 'embed', url: 'https://user:pw@www.youtube.com/embed/x' }] }, 'body.body.0.url'],
    [{ title: 'Creds cover', coverImage: { url: withCredentials, alt: '' } }, 'body.coverImage.url'],
    [{ title: 'Creds source', sources: [{ name: 'Agency', url: withCredentials }] }, 'body.sources.0.url'],
  ] as const) {
    assertRejected(t, await post('/v1/articles', payload), [path]);
  }
  assertRejected(t, await post('/v1/timeline', { title: 'Creds entry', url: withCredentials }), ['body.url']);
  t.same(await articleTitles('Creds'), [], 'nothing was written');

  const messy = '  https://News.Example/a b?q="><script>x</script>';
  const clean = 'https://news.example/a%20b?q=%22%3E%3Cscript%3Ex%3C/script%3E';
  const article = await created(t, {
    title: 'Normalised URLs',
    body: [{ type: 'image', url: messy, alt: '' }, { type: 'embed', url: ' https://www.youtube.com/embed/x ' }],
    coverImage: { url: messy, alt: '' },
    sources: [{ name: 'Agency', url: messy }],
  });
  t.equal(article.body[0]?.url, clean, 'image url');
  t.equal(article.body[1]?.url, 'https://www.youtube.com/embed/x', 'embed url');
  t.equal(article.coverImage?.url, clean, 'cover image url');
  t.equal(article.sources[0]?.url, clean, 'source url');
  const entry = json<{ url: string }>(await post('/v1/timeline', { title: 'Normalised entry', url: messy }));
  t.equal(entry.url, clean, 'timeline url');
});

t.test('EMBED_HOSTS restricts embed blocks to the hosts listed', async (t) => {
  const allowed = await created(t, {
    title: 'Allowed embeds',
    body: [{ type: 'embed', url: 'https://www.youtube.com/embed/1' }, { type: 'embed', url: 'https://player.vimeo.com/video/2' }],
  });
  t.equal(allowed.body.length, 2);
  const refused = await post('/v1/articles', {
    title: 'Refused embeds',
    body: [
      { type: 'paragraph', text: 'x' },
      { type: 'embed', url: 'https://evil.example/embed' },
      { type: 'embed', url: 'https://youtube.com.evil.example/embed' },
    ],
  });
  assertRejected(t, refused, ['body.body.1.url', 'body.body.2.url']);
  // Other URL fields are not embeds: any host.
  await created(t, { title: 'Images anywhere', body: [{ type: 'image', url: 'https://evil.example/a.png', alt: '' }] });

  const update = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${allowed.id}`,
    headers: { ...editor, 'if-match': `"v${allowed.version}"` },
    payload: { body: [{ type: 'embed', url: 'https://evil.example/embed' }] },
  });
  assertRejected(t, update, ['body.body.0.url']);

  const open = await buildTestApp(t);
  const openEditor = await open.authAs('editor');
  const anyHost = await open.app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: openEditor,
    payload: { title: 'Any host', body: [{ type: 'embed', url: 'https://evil.example/embed' }] },
  });
  t.equal(anyHost.statusCode, 201, 'without EMBED_HOSTS any host may be embedded');
});
