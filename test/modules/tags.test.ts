import t from 'tap';
import { buildTestApp, json } from '../helper.js';

// One database for the file; each test makes its own data (its own locale where lists are compared).
const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

t.test('tags: create, read, conditional GET, patch and delete with If-Match', async (t) => {

  const created = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Росія', locale: 'uk' } });
  t.equal(created.statusCode, 201);
  const tag = json(created);
  t.equal(tag.slug, 'rosiia');
  t.equal(tag.version, 1);
  t.equal(created.headers.location, `/v1/tags/${tag.id}`);
  t.match(created.headers.etag, /^"v1-/);

  const bySlug = await app.inject({ url: '/v1/tags/rosiia?locale=uk' });
  t.equal(bySlug.statusCode, 200);
  t.equal(json(bySlug).id, tag.id);
  t.match(bySlug.headers['cache-control'], /^public, max-age=\d+, stale-while-revalidate=\d+$/);
  t.equal(bySlug.headers['surrogate-key'], `tag:${tag.id}`);
  const etag = String(bySlug.headers.etag);

  const notModified = await app.inject({ url: `/v1/tags/${tag.id}`, headers: { 'if-none-match': etag } });
  t.equal(notModified.statusCode, 304);
  t.equal(notModified.body, '');

  const authed = await app.inject({ url: `/v1/tags/${tag.id}`, headers: editor });
  t.match(authed.headers['cache-control'], /^private/);

  const noIfMatch = await app.inject({ method: 'PATCH', url: `/v1/tags/${tag.id}`, headers: editor, payload: { name: 'Russia' } });
  t.equal(noIfMatch.statusCode, 428);
  t.equal(json(noIfMatch).code, 'PRECONDITION_REQUIRED');

  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': etag },
    payload: { name: 'Russia', description: 'Coverage of Russia' },
  });
  t.equal(patched.statusCode, 200);
  t.equal(json(patched).version, 2);
  t.equal(json(patched).name, 'Russia');
  t.equal(json(patched).slug, 'rosiia', 'a rename keeps the slug');
  t.not(patched.headers.etag, etag);

  const stale = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': etag },
    payload: { name: 'Lost update' },
  });
  t.equal(stale.statusCode, 412);
  t.equal(json(stale).code, 'PRECONDITION_FAILED');
  const afterStale = json(await app.inject({ url: `/v1/tags/${tag.id}` }));
  t.equal(afterStale.name, 'Russia', 'nothing changed on 412');
  t.equal(afterStale.version, 2);

  const staleDelete = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}`, headers: { ...editor, 'if-match': etag } });
  t.equal(staleDelete.statusCode, 412);
  const deleted = await app.inject({
    method: 'DELETE',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': String(patched.headers.etag) },
  });
  t.equal(deleted.statusCode, 204);
  const gone = await app.inject({ url: `/v1/tags/${tag.id}` });
  t.equal(gone.statusCode, 404);
  t.equal(json(gone).code, 'TAG_NOT_FOUND');
  const deleteGone = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}`, headers: { ...editor, 'if-match': '"v2-x"' } });
  t.equal(deleteGone.statusCode, 404);
});

t.test('tags: slugs are unique per locale, also under a race', async (t) => {
  const create = (payload: object) => app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload });

  t.equal((await create({ name: 'Ukraine', locale: 'en' })).statusCode, 201);
  const duplicate = await create({ name: 'UKRAINE!', locale: 'en' });
  t.equal(duplicate.statusCode, 409);
  t.equal(json(duplicate).code, 'TAG_SLUG_TAKEN');
  t.equal((await create({ name: 'Ukraine', locale: 'uk' })).statusCode, 201, 'same slug in another locale is fine');

  const racers = await Promise.all(Array.from({ length: 10 }, () => create({ name: 'Race', slug: 'race' })));
  const statuses = racers.map((r) => r.statusCode).sort();
  t.same(statuses, [201, ...Array(9).fill(409)]);

  const first = json(await create({ name: 'Alpha' }));
  const second = json(await create({ name: 'Beta' }));
  const clash = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${second.id}`,
    headers: { ...editor, 'if-match': `"v${second.version}"` },
    payload: { slug: first.slug },
  });
  t.equal(clash.statusCode, 409);
  const noName = await create({ name: '!!!' });
  t.equal(noName.statusCode, 400);
  t.equal(json<{ errors: { path: string }[] }>(noName).errors[0]?.path, 'body.slug');
});

t.test('tags: list filters by prefix and locale and pages by cursor without repeats', async (t) => {
  const names = ['Kyiv', 'Kharkiv', 'Kherson', 'Dnipro', 'Odesa', 'Lviv', 'Zaporizhzhia'];
  for (const name of names) {
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name, locale: 'pl' } });
  }
  await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Київ', locale: 'be' } });

  const prefix = json<{ data: { name: string }[] }>(await app.inject({ url: '/v1/tags?q=kh&locale=pl' }));
  t.same(prefix.data.map((tag) => tag.name), ['Kharkiv', 'Kherson']);
  const be = json<{ data: { slug: string }[] }>(await app.inject({ url: '/v1/tags?locale=be' }));
  t.same(be.data.map((tag) => tag.slug), ['kyiv']);
  const literal = json<{ data: unknown[] }>(await app.inject({ url: '/v1/tags?q=%25' }));
  t.same(literal.data, [], 'a % in q is matched literally');

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/v1/tags?locale=pl&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const page = json<{ data: { name: string }[]; nextCursor: string | null }>(await app.inject({ url }));
    seen.push(...page.data.map((tag) => tag.name));
    cursor = page.nextCursor;
    pages += 1;
    if (pages === 1) {
      // A tag added behind the cursor while paging must not shift later pages.
      await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Bakhmut', locale: 'pl' } });
    }
  } while (cursor);
  t.same(seen, [...names].sort());
  t.equal(pages, 3);

  // An unknown parameter is ignored, as on every GET.
  t.equal((await app.inject({ url: '/v1/tags?extra=1' })).statusCode, 200, 'extra=1 is ignored');
  for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'cursor=nope!', 'cursor=WyJrZXlzIl0', 'locale=%21%21']) {
    const response = await app.inject({ url: `/v1/tags?${bad}` });
    t.equal(response.statusCode, 400, bad);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
  }
});

t.test('tags: writes need the editor role', async (t) => {
  const reader = await authAs('reader');
  const anonymous = await app.inject({ method: 'POST', url: '/v1/tags', payload: { name: 'X' } });
  t.equal(anonymous.statusCode, 401);
  t.equal(json(anonymous).code, 'AUTH_REQUIRED');
  const forbidden = await app.inject({ method: 'POST', url: '/v1/tags', headers: reader, payload: { name: 'X' } });
  t.equal(forbidden.statusCode, 403);
  t.equal(json(forbidden).code, 'FORBIDDEN');
  const list = json<{ data: unknown[] }>(await app.inject({ url: '/v1/tags?q=x' }));
  t.same(list.data, [], 'nothing was written');
});

t.test('tags: deleting a tag articles carry is 409 TAG_IN_USE unless forced, which detaches it', async (t) => {
  const tag = json<{ id: string; version: number }>(
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'In use', locale: 'sq' } }),
  );
  const article = json<{ id: string }>(
    await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Tagged in use', locale: 'sq', tagIds: [tag.id] } }),
  );
  const ifMatch = { ...editor, 'if-match': `"v${tag.version}"` };
  const refused = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}`, headers: ifMatch });
  t.equal(refused.statusCode, 409);
  t.equal(json(refused).code, 'TAG_IN_USE');
  t.match(json(refused).detail, /1 article/, 'says how many carry it');
  t.equal((await app.inject({ url: `/v1/tags/${tag.id}` })).statusCode, 200, 'the tag is still there');
  const carried = json<{ tags: { id: string }[] }>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.same(carried.tags.map((x) => x.id), [tag.id], 'and still on its article');

  const typo = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}?force=yes`, headers: ifMatch });
  t.equal(typo.statusCode, 400, 'force is true or false');
  const forced = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}?force=true`, headers: ifMatch });
  t.equal(forced.statusCode, 204, 'asked for: deleted');
  const detached = json<{ tags: unknown[] }>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.same(detached.tags, [], 'and detached from its article');

  const unused = json<{ id: string; version: number }>(
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Unused', locale: 'sq' } }),
  );
  const plain = await app.inject({ method: 'DELETE', url: `/v1/tags/${unused.id}`, headers: { ...editor, 'if-match': `"v${unused.version}"` } });
  t.equal(plain.statusCode, 204, 'a tag no article carries needs no force');

  const operation = json<{ paths: Record<string, { delete?: { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> } }> }>(
    await app.inject({ url: '/openapi.json' }),
  ).paths['/v1/tags/{idOrSlug}']?.delete;
  t.ok(operation?.responses['409'], 'the document lists the 409');
  t.ok(operation?.parameters?.some((p) => p.in === 'query' && p.name === 'force'), 'and the force parameter');
});
