import t, { type Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, json } from '../helper.js';

// One database for the file; each test makes its own data (its own locale where lists are compared).
const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What must never reach a client: stack frames, file paths, SQL or driver text. */
const LEAKS = /\n\s+at |node_modules|\.[jt]s:\d+|\bselect\b.*\bfrom\b|\binsert into\b|\bupdate\b.*\bset\b|syntax error|relation "|violates|FST_ERR|DrizzleQueryError/i;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

/** Asserts the RFC 9457 shape every client mistake shares, and returns the parsed body. */
function assertProblem(t: Test, response: LightMyRequestResponse, status: number, code: string): Problem {
  const x = {};
  t.equal(response.statusCode, status, `status ${status}`, x);
  t.equal(response.headers['content-type'], PROBLEM_CONTENT_TYPE, 'problem+json content type', x);
  let body: Problem;
  try {
    body = json<Problem>(response);
  } catch {
    t.fail('the body is JSON', x);
    return {} as Problem;
  }
  t.equal(body.status, status, 'body.status equals the HTTP status', x);
  t.equal(body.code, code, `code ${code}`, x);
  t.equal(body.type, `urn:lede:problem:${code.toLowerCase().replaceAll('_', '-')}`, 'type names the code', x);
  t.type(body.title, 'string', x);
  t.ok(typeof body.title === 'string' && body.title.length > 0, 'title is not empty', x);
  t.type(body.detail, 'string', x);
  t.ok(typeof body.detail === 'string' && body.detail.length > 0, 'detail is not empty', x);
  t.type(body.requestId, 'string', x);
  t.equal(body.requestId, response.headers['x-request-id'], 'requestId matches the X-Request-Id header', x);
  t.equal(response.headers['x-content-type-options'], 'nosniff', 'security headers are set', x);
  t.notOk('stack' in body, 'no stack property');
  t.notMatch(response.body, LEAKS, 'no stack trace, file path, SQL or framework error text', x);
  if (body.errors !== undefined) {
    for (const entry of body.errors) {
      t.same(Object.keys(entry).sort(), ['message', 'path'], 'errors entries are {path, message}', x);
      t.type(entry.path, 'string', x);
      t.type(entry.message, 'string', x);
    }
  }
  return body;
}

const createTag = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/tags', headers: { ...editor, ...headers }, payload: payload as string });

async function tagNames(locale: string): Promise<string[]> {
  const page = json<{ data: { name: string }[] }>(await app.inject({ url: `/v1/tags?locale=${locale}&limit=100` }));
  return page.data.map((tag) => tag.name);
}

t.test('an unknown route is 404 ROUTE_NOT_FOUND', async (t) => {
  assertProblem(t, await app.inject({ url: '/v1/no-such-thing' }), 404, 'ROUTE_NOT_FOUND');
  assertProblem(t, await app.inject({ method: 'PUT', url: '/v1/tags' }), 404, 'ROUTE_NOT_FOUND');
  assertProblem(t, await app.inject({ url: '/' }), 404, 'ROUTE_NOT_FOUND');
});

t.test('malformed JSON is 400 MALFORMED_JSON, a missing body 400 VALIDATION_FAILED, and nothing is written', async (t) => {
  const asJson = { 'content-type': 'application/json' };
  assertProblem(t, await createTag('{"name":"Half', asJson), 400, 'MALFORMED_JSON');
  assertProblem(t, await createTag('{"name":"Trailing", "locale":"sq",}', asJson), 400, 'MALFORMED_JSON');
  // An empty body is no body (clients that always label requests JSON): here a required body is missing.
  assertProblem(t, await createTag('', asJson), 400, 'VALIDATION_FAILED');
  t.same(await tagNames('sq'), [], 'nothing was written');
});

t.test('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const noType = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: Buffer.from('name=x') });
  assertProblem(t, noType, 415, 'UNSUPPORTED_MEDIA_TYPE');
  const form = await createTag('name=x&locale=sk', { 'content-type': 'application/x-www-form-urlencoded' });
  assertProblem(t, form, 415, 'UNSUPPORTED_MEDIA_TYPE');
  t.same(await tagNames('sk'), [], 'nothing was written');
});

t.test('a text/plain body on POST /v1/tags is 415 UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const plain = await createTag('{"name":"Plain","locale":"mt"}', { 'content-type': 'text/plain' });
  t.ok(plain.statusCode >= 400 && plain.statusCode < 500, 'refused with a 4xx');
  assertProblem(t, plain, 415, 'UNSUPPORTED_MEDIA_TYPE');
  t.same(await tagNames('mt'), [], 'nothing was written');
});

t.test('a body over the size limit is 413 PAYLOAD_TOO_LARGE and writes nothing', async (t) => {
  t.equal(app.config.BODY_LIMIT_BYTES, 1024 * 1024, 'the default limit is 1 MiB');
  const oversize = JSON.stringify({ name: 'Huge', locale: 'sl', description: 'x'.repeat(1024 * 1024) });
  assertProblem(t, await createTag(oversize, { 'content-type': 'application/json' }), 413, 'PAYLOAD_TOO_LARGE');
  t.same(await tagNames('sl'), [], 'nothing was written');

  // The limit comes from BODY_LIMIT_BYTES: a 2 KiB body passes the default limit (and fails
  // validation instead), while an app configured for 1 KiB refuses it before parsing.
  const twoKib = JSON.stringify({ name: 'Mid', locale: 'sl', description: 'y'.repeat(2048) });
  const underDefault = await createTag(twoKib, { 'content-type': 'application/json' });
  assertProblem(t, underDefault, 400, 'VALIDATION_FAILED');

  const small = await buildTestApp(t, { env: { BODY_LIMIT_BYTES: '1024' } });
  const smallEditor = await small.authAs('editor');
  const refused = await small.app.inject({
    method: 'POST',
    url: '/v1/tags',
    headers: { ...smallEditor, 'content-type': 'application/json' },
    payload: twoKib,
  });
  assertProblem(t, refused, 413, 'PAYLOAD_TOO_LARGE');
  const fits = await small.app.inject({ method: 'POST', url: '/v1/tags', headers: smallEditor, payload: { name: 'Fits', locale: 'sl' } });
  t.equal(fits.statusCode, 201, 'a body under the configured limit is accepted');
});

t.test('unknown fields in a write body are 400 VALIDATION_FAILED naming the field', async (t) => {
  for (const field of ['id', 'version', 'createdAt', 'updatedAt', 'articleCount']) {
    const response = await createTag({ name: `Unknown ${field}`, locale: 'lv', [field]: field === 'version' ? 7 : 'x' });
    const problem = assertProblem(t, response, 400, 'VALIDATION_FAILED');
    t.same(problem.errors?.map((e) => e.path), [`body.${field}`], `errors[].path names ${field}`);
  }
  t.same(await tagNames('lv'), [], 'nothing was written');

  const tag = json(await createTag({ name: 'Patch target', locale: 'lt' }));
  const patch = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': `"v${tag.version}"` },
    payload: { name: 'Renamed', version: 99 },
  });
  const problem = assertProblem(t, patch, 400, 'VALIDATION_FAILED');
  t.same(problem.errors?.map((e) => e.path), ['body.version']);
  const after = json(await app.inject({ url: `/v1/tags/${tag.id}` }));
  t.equal(after.name, 'Patch target', 'nothing was written');
  t.equal(after.version, 1);
});

t.test('several unknown fields get one errors entry each', async (t) => {
  const response = await createTag({ name: 'Many unknown', id: 'x', version: 2, createdAt: 'x' });
  const problem = assertProblem(t, response, 400, 'VALIDATION_FAILED');
  t.same(problem.errors?.map((e) => e.path).sort(), ['body.createdAt', 'body.id', 'body.version'], 'one path per field');
});

t.test('a path parameter that must be a UUID rejects anything else with 400', async (t) => {
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/timeline/not-a-uuid',
    headers: { ...editor, 'if-match': '"v1"' },
    payload: { title: 'Nope' },
  });
  const problem = assertProblem(t, response, 400, 'VALIDATION_FAILED');
  t.ok(problem.errors?.some((e) => e.path.startsWith('params.')), 'errors name the path parameter');
  const del = await app.inject({ method: 'DELETE', url: '/v1/timeline/123', headers: { ...editor, 'if-match': '"v1"' } });
  assertProblem(t, del, 400, 'VALIDATION_FAILED');
  // Where a slug is taken too, anything neither a UUID nor slug-shaped is 400 all the same.
  const notSlug = await app.inject({ method: 'PATCH', url: '/v1/tags/Not_A_Slug', headers: { ...editor, 'if-match': '"v1"' }, payload: { name: 'Nope' } });
  assertProblem(t, notSlug, 400, 'VALIDATION_FAILED');
});

t.test('bad cursors and out-of-range limits are 400, never 500', async (t) => {
  assertProblem(t, await app.inject({ url: '/v1/tags?cursor=not-ours' }), 400, 'INVALID_CURSOR');
  assertProblem(t, await app.inject({ url: '/v1/tags?limit=0' }), 400, 'VALIDATION_FAILED');
  assertProblem(t, await app.inject({ url: '/v1/tags?limit=101' }), 400, 'VALIDATION_FAILED');
  assertProblem(t, await app.inject({ url: '/v1/tags?limit=1&limit=2' }), 400, 'VALIDATION_FAILED');
});

t.test('\\u0000 anywhere in the input is 400 VALIDATION_FAILED and writes nothing', async (t) => {
  const inBody = assertProblem(t, await createTag({ name: 'Nul\u0000name', locale: 'et' }), 400, 'VALIDATION_FAILED');
  t.same(inBody.errors?.map((e) => e.path), ['body.name']);
  const nested = assertProblem(t, await createTag({ name: 'Ok', description: 'a\u0000', locale: 'et' }), 400, 'VALIDATION_FAILED');
  t.same(nested.errors?.map((e) => e.path), ['body.description']);
  const inKey = await createTag('{"name":"Ok","locale":"et","na\\u0000me":"x"}', { 'content-type': 'application/json' });
  assertProblem(t, inKey, 400, 'VALIDATION_FAILED');
  t.same(await tagNames('et'), [], 'nothing was written');

  const inQuery = assertProblem(t, await app.inject({ url: '/v1/tags?q=%00' }), 400, 'VALIDATION_FAILED');
  t.same(inQuery.errors?.map((e) => e.path), ['query.q']);
  assertProblem(t, await app.inject({ url: '/v1/tags?q=ab%00cd' }), 400, 'VALIDATION_FAILED');

  const inPath = assertProblem(t, await app.inject({ url: '/v1/tags/ab%00cd' }), 400, 'VALIDATION_FAILED');
  t.same(inPath.errors?.map((e) => e.path), ['params.idOrSlug']);

  const tag = json(await createTag({ name: 'Nul target', locale: 'fi' }));
  const patchPath = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}%00`,
    headers: { ...editor, 'if-match': `"v${tag.version}"` },
    payload: { name: 'Changed' },
  });
  assertProblem(t, patchPath, 400, 'VALIDATION_FAILED');
  const patchBody = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': `"v${tag.version}"` },
    payload: { name: 'Changed\u0000' },
  });
  assertProblem(t, patchBody, 400, 'VALIDATION_FAILED');
  const after = json(await app.inject({ url: `/v1/tags/${tag.id}` }));
  t.equal(after.name, 'Nul target', 'nothing was written');
  t.equal(after.version, 1);
});

t.test('a path that is not valid percent-encoding is a problem+json 400', async (t) => {
  const response = await app.inject({ url: '/v1/tags/%E0%A4%A' });
  t.equal(response.statusCode, 400);
  assertProblem(t, response, 400, 'VALIDATION_FAILED');
});

t.test('an overlong path parameter is a problem+json 4xx', async (t) => {
  const response = await app.inject({ url: `/v1/tags/${'a'.repeat(600)}` });
  t.ok(response.statusCode >= 400 && response.statusCode < 500, 'refused with a 4xx');
  // Which 4xx (400, 404, 414) is the implementer's choice; the wire format is not.
  t.equal(response.headers['content-type'], PROBLEM_CONTENT_TYPE, 'problem+json content type');
  const body = json<Partial<Problem>>(response);
  t.equal(body.status, response.statusCode, 'body.status equals the HTTP status');
  t.type(body.requestId, 'string', 'has a requestId');
  t.notMatch(response.body, /FST_ERR/, 'no framework error codes');
  t.equal(response.headers['x-content-type-options'], 'nosniff', 'security headers are set');
});

t.test('application/merge-patch+json is accepted for PATCH', async (t) => {
  const tag = json(await createTag({ name: 'Merge me', locale: 'ga' }));
  const merged = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': `"v${tag.version}"`, 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ description: 'Merged in' }),
  });
  t.equal(merged.statusCode, 200);
  t.equal(json(merged).description, 'Merged in');
  t.equal(json(merged).version, 2);

  const broken = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': '"v2"', 'content-type': 'application/merge-patch+json' },
    payload: '{"description":',
  });
  assertProblem(t, broken, 400, 'MALFORMED_JSON');
  const unknown = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${tag.id}`,
    headers: { ...editor, 'if-match': '"v2"', 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ id: tag.id }),
  });
  assertProblem(t, unknown, 400, 'VALIDATION_FAILED');
  t.equal(json(await app.inject({ url: `/v1/tags/${tag.id}` })).version, 2, 'the failed patches wrote nothing');
});

t.test('X-Request-Id is honoured when plain and replaced when hostile', async (t) => {
  const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'edge-4f2a:1.2_3' } });
  t.equal(given.headers['x-request-id'], 'edge-4f2a:1.2_3');
  const inProblem = await app.inject({ url: '/v1/nope', headers: { 'x-request-id': 'trace-abc' } });
  t.equal(inProblem.headers['x-request-id'], 'trace-abc');
  t.equal(json(inProblem).requestId, 'trace-abc', 'the problem body quotes it');
  const longest = 'r'.repeat(128);
  t.equal((await app.inject({ url: '/healthz', headers: { 'x-request-id': longest } })).headers['x-request-id'], longest);

  const absent = await app.inject({ url: '/healthz' });
  t.match(absent.headers['x-request-id'], UUID, 'a request id is generated when none is given');
  for (const hostile of ['r'.repeat(129), 'x" level=60 msg="forged', '<script>', 'a b', '{"json":1}']) {
    const response = await app.inject({ url: '/v1/nope', headers: { 'x-request-id': hostile } });
    t.match(response.headers['x-request-id'], UUID, `replaced: ${hostile.slice(0, 20)}`);
    t.equal(json(response).requestId, response.headers['x-request-id']);
  }
});

t.test('security headers are on every answer, success or problem', async (t) => {
  const responses = [
    await app.inject({ url: '/healthz' }),
    await app.inject({ url: '/v1/tags' }),
    await app.inject({ url: '/v1/nope' }),
    await createTag('{', { 'content-type': 'application/json' }),
    await app.inject({ method: 'POST', url: '/v1/tags', payload: { name: 'x' } }),
  ];
  for (const response of responses) {
    t.equal(response.headers['x-content-type-options'], 'nosniff', `nosniff on ${response.statusCode}`);
    t.equal(response.headers['x-frame-options'], 'DENY');
    t.equal(response.headers['referrer-policy'], 'no-referrer');
  }
  const problem = await app.inject({ url: '/v1/nope' });
  t.equal(problem.headers['cache-control'], 'no-store', 'problems are not cached');
});
