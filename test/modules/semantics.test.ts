import t from 'tap';
import { buildTestApp, json } from '../helper.js';

/** Behaviour a frontend relies on: redirects from former slugs, and bodies that round-trip. */

type Article = { id: string; slug: string; version: number; body: Record<string, unknown>[] };

const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor', 'Semantics desk');

async function create(payload: Record<string, unknown>) {
  const response = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload });
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.body}`);
  return { article: json<Article>(response), etag: String(response.headers.etag) };
}

async function publish(id: string, etag: string) {
  const response = await app.inject({ method: 'POST', url: `/v1/articles/${id}/publish`, headers: { ...editor, 'if-match': etag } });
  if (response.statusCode !== 200) throw new Error(`publish failed: ${response.body}`);
  return String(response.headers.etag);
}

async function patch(id: string, etag: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'PATCH', url: `/v1/articles/${id}`, headers: { ...editor, 'if-match': etag }, payload });
}

const document = json<{
  paths: Record<string, Record<string, { responses: Record<string, { content?: unknown; headers?: Record<string, unknown> }> }>>;
}>(await app.inject({ url: '/openapi.json' }));

t.test('a former slug answers 301 with a short Cache-Control and no body', async (t) => {
  const { article, etag } = await create({ title: 'Before the rename', slug: 'before-rename' });
  const renamed = await patch(article.id, await publish(article.id, etag), { slug: 'after-rename' });
  t.equal(renamed.statusCode, 200);

  const moved = await app.inject({ url: '/v1/articles/before-rename' });
  t.equal(moved.statusCode, 301);
  t.equal(moved.headers.location, '/v1/articles/after-rename?locale=en');
  t.equal(moved.headers['cache-control'], 'public, max-age=300', 'browsers and CDNs keep it briefly, not for good');
  t.equal(moved.body, '', 'no body');
  t.equal(moved.headers['content-type'], undefined, 'no content type for no body');

  const keyed = await app.inject({ url: '/v1/articles/before-rename', headers: editor });
  t.equal(keyed.statusCode, 301);
  t.equal(keyed.headers['cache-control'], 'private, no-cache', 'a redirect an editor sees (perhaps to a draft) is not shared');

  // Changed back: the old redirect stops at once, with no loop.
  const back = await patch(article.id, String(renamed.headers.etag), { slug: 'before-rename' });
  t.equal(back.statusCode, 200);
  t.equal((await app.inject({ url: '/v1/articles/before-rename' })).statusCode, 200);
  const reverse = await app.inject({ url: '/v1/articles/after-rename' });
  t.equal(reverse.statusCode, 301);
  t.equal(reverse.headers.location, '/v1/articles/before-rename?locale=en');
});

t.test('the document declares the 301 without a body and with Location and Cache-Control', async (t) => {
  const moved = document.paths['/v1/articles/{idOrSlug}']?.get?.responses['301'];
  t.ok(moved, '301 is declared');
  t.equal(moved?.content, undefined, 'no body schema');
  t.ok(moved?.headers?.Location, 'Location is declared');
  t.ok(moved?.headers?.['Cache-Control'], 'Cache-Control is declared');
});

t.test('a body read back can be written back unchanged', async (t) => {
  const target = await create({ title: 'Round trip target' });
  await publish(target.article.id, target.etag);
  const body = [
    { type: 'paragraph', text: 'Talks in <a href="https://example.com/g20">Rio</a>, <strong>briefly</strong>.<br>Then <em>silence</em>.' },
    { type: 'heading', level: 2, text: 'What was said' },
    { type: 'heading', level: 4, text: 'In detail' },
    { type: 'quote', text: 'We discussed <em>everything</em>', attribution: 'A diplomat' },
    { type: 'list', style: 'ordered', items: ['one', '<strong>two</strong>'] },
    { type: 'image', url: 'https://images.example.com/rio.jpg', alt: 'The summit', caption: 'Rio de Janeiro', credit: 'Reuters' },
    { type: 'embed', url: 'https://www.youtube.com/watch?v=abc', provider: 'YouTube' },
    { type: 'related', articleId: target.article.id },
  ];
  const { article } = await create({ title: 'Round trip', body });
  const read = await app.inject({ url: `/v1/articles/${article.id}`, headers: editor });
  const asRead = json<Article>(read).body;
  t.same(
    asRead.map((block) => block.type),
    ['paragraph', 'heading', 'heading', 'quote', 'list', 'image', 'embed', 'related'],
  );
  t.ok(asRead[7]?.article, 'the related block comes back with its article');

  const written = await patch(article.id, String(read.headers.etag), { body: asRead });
  t.equal(written.statusCode, 200, `PATCH {body: <as read>} is accepted: ${written.body.slice(0, 300)}`);
  t.same(json<Article>(written).body, asRead, 'and the body is unchanged');
  const again = json<Article>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.same(again.body, asRead, 'as stored');

  // The read-only part is only ever ignored: nothing else unknown gets in.
  const extra = await patch(article.id, String(written.headers.etag), { body: [{ ...asRead[0], note: 'x' }] });
  t.equal(extra.statusCode, 400, 'unknown block fields are still refused');
});

t.test('read and write types agree: heading levels are 2, 3 or 4 both ways', async (t) => {
  const schemas = json<{ components: { schemas: Record<string, unknown> } }>(await app.inject({ url: '/openapi.json' })).components.schemas;
  const headingLevels = (name: string) => {
    const block = schemas[name] as { oneOf?: unknown[]; anyOf?: unknown[] } | undefined;
    const heading = (block?.oneOf ?? block?.anyOf ?? []).find(
      (option) => (option as { properties?: { type?: { const?: string } } }).properties?.type?.const === 'heading',
    ) as { properties: { level: unknown } } | undefined;
    return JSON.stringify(heading?.properties.level);
  };
  t.ok(headingLevels('BlockWrite'), 'the write form has a heading');
  t.equal(headingLevels('Block'), headingLevels('BlockWrite'), 'the read form documents the same levels');
});

t.test('path parameters are named for what they take', async (t) => {
  type Parameter = { in: string; name: string; description?: string; schema?: { anyOf?: unknown[] } };
  const paths = json<{ paths: Record<string, Record<string, { parameters?: Parameter[] }>> }>(await app.inject({ url: '/openapi.json' })).paths;
  for (const template of ['/v1/articles/{id}/publish', '/v1/articles/{id}/unpublish', '/v1/articles/{id}/archive', '/v1/articles/{id}/revisions', '/v1/articles/{id}/revisions/{version}']) {
    t.ok(paths[template], `${template}: id only`);
  }
  // `{idOrSlug}` only where every operation of the path takes an id or a slug (OpenAPI allows one
  // template per path, so PATCH and DELETE share GET's, and take a slug as GET does).
  for (const [template, item] of Object.entries(paths)) {
    if (!template.includes('{idOrSlug}')) continue;
    t.match(template, /^\/v1\/(articles|tags)\/\{idOrSlug\}$/, `${template}: {idOrSlug} only on a resource's own path`);
    for (const [method, operation] of Object.entries(item)) {
      const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === 'idOrSlug');
      t.ok(parameter?.schema?.anyOf, `${method.toUpperCase()} ${template} takes an id or a slug`);
    }
  }
  const { article, etag } = await create({ title: 'Written by slug', slug: 'written-by-slug' });
  const bySlug = await app.inject({ method: 'PATCH', url: '/v1/articles/written-by-slug', headers: { ...editor, 'if-match': etag }, payload: { lead: 'Found by its slug' } });
  t.equal(bySlug.statusCode, 200, 'PATCH by slug');
  t.equal(json<Article & { lead: string }>(bySlug).id, article.id);
  const gone = await app.inject({ method: 'DELETE', url: '/v1/articles/written-by-slug?locale=en', headers: { ...editor, 'if-match': String(bySlug.headers.etag) } });
  t.equal(gone.statusCode, 204, 'DELETE by slug and locale');
  const unknownSlug = await app.inject({ method: 'DELETE', url: '/v1/articles/written-by-slug', headers: { ...editor, 'if-match': '"v1"' } });
  t.equal(unknownSlug.statusCode, 404, 'a slug no article has now is 404');
  const tag = json<{ id: string; version: number }>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Tag by slug', locale: 'en' } }));
  const tagPatched = await app.inject({ method: 'PATCH', url: '/v1/tags/tag-by-slug', headers: { ...editor, 'if-match': `"v${tag.version}"` }, payload: { description: 'by slug' } });
  t.equal(tagPatched.statusCode, 200, 'a tag by slug too');
  const tagDeleted = await app.inject({ method: 'DELETE', url: '/v1/tags/tag-by-slug', headers: { ...editor, 'if-match': String(tagPatched.headers.etag) } });
  t.equal(tagDeleted.statusCode, 204);
  const byUrl = await app.inject({ method: 'POST', url: '/v1/articles/some-slug/publish', headers: { ...editor, 'if-match': '"v1"' } });
  t.equal(byUrl.statusCode, 400, 'a slug where an id is taken is 400');
  t.same(json<{ errors: { path: string }[] }>(byUrl).errors.map((e) => e.path), ['params.id'], 'naming params.id');
});

t.test('GETs ignore query parameters they do not know: same answer, same ETag', async (t) => {
  const { article, etag } = await create({ title: 'Query parameters', tagSlugs: [] });
  await publish(article.id, etag);
  const tag = json<{ id: string; slug: string }>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Query tag' } }));
  const entry = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { title: 'Query flash' } }));
  const junk = 'utm_source=newsletter&utm_medium=email&_=1732271234567&fbclid=abc';
  const reads: { url: string; headers?: Record<string, string> }[] = [
    { url: '/v1/articles' },
    { url: '/v1/articles?limit=5' },
    { url: `/v1/articles/${article.slug}` },
    { url: `/v1/articles/${article.id}?format=html` },
    { url: `/v1/articles/${article.id}/revisions`, headers: editor },
    { url: `/v1/articles/${article.id}/revisions/1`, headers: editor },
    { url: '/v1/tags' },
    { url: `/v1/tags/${tag.slug}` },
    { url: '/v1/timeline' },
    { url: '/v1/timeline?groupBy=day' },
    { url: `/v1/timeline/${entry.id}` },
    { url: '/v1/feeds/articles.rss' },
    { url: '/v1/feeds/timeline.json' },
    { url: '/v1/keys', headers: (await authAs('admin', 'Query admin')) },
  ];
  for (const { url, headers } of reads) {
    const plain = await app.inject({ url, headers });
    const noisy = await app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}${junk}`, headers });
    t.equal(noisy.statusCode, plain.statusCode, `${url}: ${noisy.statusCode}`);
    t.equal(noisy.headers.etag, plain.headers.etag, `${url}: the same ETag`);
    t.equal(noisy.body, plain.body, `${url}: the same answer`);
  }
});

t.test('an empty q= is no search; writes still reject unknown body fields', async (t) => {
  for (const path of ['/v1/articles', '/v1/tags']) {
    const plain = await app.inject({ url: path });
    for (const q of ['', '%20%20']) {
      const empty = await app.inject({ url: `${path}?q=${q}` });
      t.equal(empty.statusCode, 200, `${path}?q=${q}`);
      t.equal(empty.body, plain.body, `${path}?q=${q} lists as without q`);
    }
  }
  const unknown = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Strict', utm_source: 'x' } });
  t.equal(unknown.statusCode, 400);
  t.same(json<{ errors: { path: string }[] }>(unknown).errors.map((e) => e.path), ['body.utm_source']);
});

t.test('an unknown parameter is not even checked; a known one still is', async (t) => {
  t.equal((await app.inject({ url: '/v1/tags?utm_source=%00' })).statusCode, 200, 'a NUL in an unknown parameter is ignored with it');
  const known = await app.inject({ url: '/v1/tags?q=%00' });
  t.equal(known.statusCode, 400);
  t.same(json<{ errors: { path: string }[] }>(known).errors.map((e) => e.path), ['query.q']);
});
