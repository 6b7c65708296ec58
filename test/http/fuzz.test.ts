import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { buildTestApp, json } from '../helper.js';
import { type ApiOperation, apiOperations, fillPath, problemShapeError, stateDifference, tableState } from './api-surface.js';
import { bodyJunk, type FuzzContext, headerJunk, pathJunk, queryJunk } from './malformed-input.js';
import { injectOrListen } from './inject-stream.js';

/**
 * Generated malformed input for every operation in the app's own OpenAPI document: bodies, query
 * strings, headers and path parameters. For every request: never a 5xx; every 4xx is problem+json
 * whose `status` is the HTTP status and which has a `code`; a write that carries anything invalid
 * is refused; and the database is exactly as it was (rows, versions, revocations).
 *
 * Deterministic: FUZZ_SEED (default below) seeds every property; a failure prints the seed and
 * fast-check's replay path. FUZZ_RUNS raises the runs per operation and input kind for a long soak.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_241_122);
const RUNS = Number(process.env.FUZZ_RUNS ?? 8);

// Rate limiting and the failed-authentication limit (when configured) must not turn a validation answer
// into a 429 halfway through.
const { app, database, authAs } = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '1000000', AUTH_FAILURE_LIMIT: '0', SITE_URL: 'https://news.example' } });
const db = database.db;
const editor = await authAs('editor', 'fuzz editor');
const asEditor = { authorization: editor.authorization };
const admin = await authAs('admin', 'fuzz admin');
const reader = await authAs('reader', 'fuzz reader');
const spareKey = await authAs('reader', 'fuzz spare');
const revoked = await authAs('editor', 'fuzz revoked');
if ((await app.inject({ method: 'DELETE', url: `/v1/keys/${revoked.id}`, headers: { authorization: admin.authorization } })).statusCode !== 204) {
  throw new Error('could not revoke the fixture key');
}

// Real resources, so path parameters and If-Match can be valid and validation is what refuses.
const tag = json<{ id: string; slug: string; version: number }>(
  await app.inject({ method: 'POST', url: '/v1/tags', headers: asEditor, payload: { name: 'Fuzz fixture', locale: 'en' } }),
);
const created = json<{ id: string; version: number }>(
  await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: asEditor,
    payload: { title: 'Fuzz fixture article', tagIds: [tag.id], body: [{ type: 'paragraph', text: 'Fixture' }] },
  }),
);
const article = json<{ id: string; slug: string; version: number }>(
  await app.inject({
    method: 'POST',
    url: `/v1/articles/${created.id}/publish`,
    headers: { ...asEditor, 'if-match': `"v${created.version}"` },
  }),
);
const entry = json<{ id: string; version: number }>(
  await app.inject({ method: 'POST', url: '/v1/timeline', headers: asEditor, payload: { title: 'Fuzz fixture flash' } }),
);
// A webhook that is off and aims at a name that never resolves, with a delivery to name in paths.
const webhook = json<{ id: string }>(
  await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: { authorization: admin.authorization },
    payload: { url: 'https://hooks.invalid/fuzz', events: ['*'], enabled: false },
  }),
);
const webhookDelivery = ((await db.execute(sql`
  insert into webhook_deliveries (webhook_id, event_id, event_type, event_occurred_at, body, status, retry_until)
  values (${webhook.id}, 1, 'tag.created', now(), '{}', 'failed', now()) returning id`)) as unknown as { rows: { id: string }[] }).rows[0];
if (![tag, article, entry, webhook].every((resource) => typeof resource.id === 'string')) throw new Error('fixtures were not created');

const operations = await apiOperations(app);
const initialState = await tableState(db);

/* ------------------------------------------------------------------------------------------ */
/* What a valid request to each operation looks like; the fuzzers break one part of it.        */

const KEY_ROUTES = '/v1/keys';
const WEBHOOK_ROUTES = '/v1/webhooks';

function validPathValues(op: ApiOperation): Record<string, string> {
  if (op.path.startsWith(`${KEY_ROUTES}/`)) return { id: spareKey.id };
  if (op.path.startsWith('/v1/tags/')) return { idOrSlug: tag.id };
  if (op.path.startsWith('/v1/articles/')) return { id: article.id, idOrSlug: article.id, version: '1' };
  if (op.path.startsWith('/v1/timeline/')) return { id: entry.id };
  if (op.path.startsWith('/v1/feeds/')) return { format: 'json' };
  if (op.path.startsWith('/v1/sitemaps/')) return { page: '1' };
  if (op.path.startsWith(`${WEBHOOK_ROUTES}/`)) return { id: webhook.id, deliveryId: String(webhookDelivery?.id) };
  if (op.pathParams.length === 0) return {};
  throw new Error(`${op.label}: the fuzz test has no valid path values for it yet; add them`);
}

function currentVersion(op: ApiOperation): number | null {
  if (op.path.startsWith('/v1/tags/')) return tag.version;
  if (op.path.startsWith('/v1/articles/')) return article.version;
  if (op.path.startsWith('/v1/timeline/')) return entry.version;
  return null;
}

/** A body each operation would accept; only ever sent with something else made invalid. */
const VALID_BODIES: Record<string, Record<string, unknown>> = {
  createApiKey: { name: 'Fuzzed key', role: 'reader' },
  createTag: { name: 'Fuzzed tag', locale: 'en' },
  updateTag: { name: 'Fuzzed rename' },
  createArticle: { title: 'Fuzzed article', body: [{ type: 'paragraph', text: 'Text' }] },
  updateArticle: { title: 'Fuzzed rename' },
  publishArticle: { addToTimeline: false },
  createTimelineEntry: { title: 'Fuzzed flash' },
  updateTimelineEntry: { title: 'Fuzzed rename' },
  createWebhook: { url: 'https://hooks.invalid/fuzzed', events: ['*'], enabled: false },
  updateWebhook: { description: 'Fuzzed' },
};

const fuzzContext: FuzzContext = {
  validBody: (op) => VALID_BODIES[op.operationId] ?? {},
  currentVersion,
  workingKey: editor.key,
  revokedAuthorization: revoked.authorization,
  bodyLimit: app.config.BODY_LIMIT_BYTES,
};

const isWrite = (op: ApiOperation) => op.method !== 'GET';
const needsAdmin = (op: ApiOperation) =>
  [KEY_ROUTES, WEBHOOK_ROUTES].some((routes) => op.path === routes || op.path.startsWith(`${routes}/`));

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

function baseRequest(op: ApiOperation, authorization: string | null): Request {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  const version = currentVersion(op);
  if (op.headerParams.includes('if-match') && version !== null) headers['if-match'] = `"v${version}"`;
  const request: Request = { method: op.method, url: fillPath(op.path, validPathValues(op)), headers };
  if (op.body) {
    headers['content-type'] = 'application/json';
    request.payload = JSON.stringify(VALID_BODIES[op.operationId] ?? {});
  }
  return request;
}

/** Valid callers: anyone for public reads, the right role for everything else. */
function validAuth(op: ApiOperation): fc.Arbitrary<string | null> {
  if (op.isPublic) return fc.constantFrom(null, reader.authorization, editor.authorization, admin.authorization);
  if (needsAdmin(op)) return fc.constant(admin.authorization);
  return fc.constantFrom(editor.authorization, admin.authorization);
}

/* ------------------------------------------------------------------------------------------ */
/* Poisons: one thing that certainly makes a write fail, added when the fuzzed part might not.  */

type Poison = 'anonymous' | 'reader-key' | 'revoked-key' | 'stale-if-match' | 'missing-if-match' | 'unknown-field' | 'unknown-id';

function poisonsFor(op: ApiOperation, untouchable: Set<string>): Poison[] {
  const poisons: Poison[] = [];
  if (!untouchable.has('auth')) poisons.push('anonymous', 'reader-key', 'revoked-key');
  if (!untouchable.has('if-match') && op.headerParams.includes('if-match')) poisons.push('stale-if-match', 'missing-if-match');
  if (!untouchable.has('body') && op.body) poisons.push('unknown-field');
  if (!untouchable.has('path') && op.pathParams.length > 0) poisons.push('unknown-id');
  return poisons;
}

function applyPoison(op: ApiOperation, request: Request, poison: Poison): void {
  switch (poison) {
    case 'anonymous':
      delete request.headers.authorization;
      break;
    case 'reader-key':
      request.headers.authorization = reader.authorization;
      break;
    case 'revoked-key':
      request.headers.authorization = revoked.authorization;
      break;
    case 'stale-if-match':
      request.headers['if-match'] = '"v999999"';
      break;
    case 'missing-if-match':
      delete request.headers['if-match'];
      break;
    case 'unknown-field': {
      const body = JSON.parse(String(request.payload ?? '{}')) as Record<string, unknown>;
      request.payload = JSON.stringify({ ...body, createdAt: '2024-01-01T00:00:00Z' });
      break;
    }
    case 'unknown-id': {
      const name = op.pathParams[0] ?? '';
      request.url = fillPath(op.path, { ...validPathValues(op), [name]: '00000000-0000-4000-8000-000000000000' });
      break;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The properties.                                                                              */

/** Stack frames, file paths, SQL or framework text: none of it may reach a client. */
const LEAKS = /\n\s+at |node_modules|\.[jt]s:\d+|syntax error|relation "|violates|DrizzleQueryError/i;

async function send(request: Request): Promise<LightMyRequestResponse> {
  return injectOrListen(app, { method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
}

function describe(request: Request): string {
  const payload = request.payload === undefined ? '' : ` body=${String(request.payload).slice(0, 300)}`;
  return `${request.method} ${request.url.slice(0, 300)} headers=${JSON.stringify(request.headers).slice(0, 400)}${payload}`;
}

/** Statuses an operation answered that its OpenAPI entry does not list, with one request each. */
const undocumented = new Map<string, Map<number, string>>();

/** Throws, naming the request, unless the response and the database are as they must be. */
async function check(op: ApiOperation, request: Request, mustRefuse: boolean): Promise<void> {
  const response = await send(request);
  const status = response.statusCode;
  const fail = (why: string) => {
    throw new Error(`${why}\n  request: ${describe(request)}\n  answer: ${status} ${response.body.slice(0, 300)}`);
  };
  if (status >= 500) fail('a 5xx');
  if (status >= 400) {
    const shape = problemShapeError(response);
    if (shape) fail(`a ${status} that is not proper problem+json: ${shape}`);
    if (LEAKS.test(response.body)) fail('internal detail leaked');
  } else if (mustRefuse) {
    fail(`${op.label} accepted invalid input`);
  }
  // What the operation answered must be among its documented responses (a junk path that reaches
  // no route at all is the router's 404, not the operation's). Collected, and asserted per operation.
  const routeless = status === 404 && json<{ code?: string }>(response).code === 'ROUTE_NOT_FOUND';
  if (!routeless && !op.responses.includes(String(status))) {
    const seen = undocumented.get(op.label) ?? new Map<number, string>();
    if (!seen.has(status)) seen.set(status, describe(request));
    undocumented.set(op.label, seen);
  }
  const difference = stateDifference(initialState, await tableState(db));
  if (difference) fail(`the database changed: ${difference}`);
}

type Dimension = 'body' | 'query' | 'headers' | 'path';

function scenario(op: ApiOperation, dimension: Dimension): fc.Arbitrary<Request> {
  const write = isWrite(op);
  const withPoison = (build: fc.Arbitrary<{ request: Request; refused: boolean; touched: Set<string> }>) =>
    build.chain(({ request, refused, touched }) => {
      if (!write || refused) return fc.constant(request);
      const poisons = poisonsFor(op, touched);
      if (poisons.length === 0) throw new Error(`${op.label}: nothing left to make the ${dimension} request certainly invalid`);
      return fc.constantFrom(...poisons).map((poison) => {
        const copy = { ...request, headers: { ...request.headers } };
        applyPoison(op, copy, poison);
        return copy;
      });
    });

  return validAuth(op).chain((authorization) => {
    const base = () => baseRequest(op, authorization);
    switch (dimension) {
      case 'body':
        return bodyJunk(op, fuzzContext).map(({ payload, contentType }) => {
          const request = base();
          request.payload = payload;
          if (contentType === null) delete request.headers['content-type'];
          else request.headers['content-type'] = contentType;
          return request;
        });
      case 'query':
        return withPoison(
          queryJunk(op).map((query) => {
            const request = base();
            request.url = `${request.url}?${query}`;
            return { request, refused: false, touched: new Set(['query']) };
          }),
        );
      case 'headers':
        return withPoison(
          headerJunk(op, fuzzContext).map(({ part, headers }) => {
            const request = base();
            Object.assign(request.headers, headers);
            const refused =
              part === 'authorization' ||
              (part === 'if-match' && op.headerParams.includes('if-match')) ||
              (part === 'content-type' && request.payload !== undefined);
            return { request, refused, touched: new Set([part === 'content-type' ? 'body' : part === 'authorization' ? 'auth' : part]) };
          }),
        );
      case 'path':
        return fc.tuple(fc.constantFrom(...op.pathParams), pathJunk()).map(([name, junk]) => {
          const request = base();
          request.url = fillPath(op.path, { ...validPathValues(op), [name]: junk });
          return request;
        });
    }
  });
}

t.test('the OpenAPI document lists the operations to fuzz', async (t) => {
  t.ok(operations.length >= 27, `${operations.length} operations`);
  for (const op of operations) t.ok(op.operationId, `${op.label} has an operationId`);
});

let propertyIndex = 0;
for (const op of operations) {
  const dimensions: Dimension[] = ['body', 'query', 'headers'];
  if (op.pathParams.length > 0) dimensions.push('path');
  t.test(`${op.label}: malformed input never causes a 5xx, a malformed problem or a write`, async (t) => {
    for (const dimension of dimensions) {
      const seed = SEED + propertyIndex;
      propertyIndex += 1;
      const mustRefuse = isWrite(op);
      const property = fc.asyncProperty(scenario(op, dimension), (request) => check(op, request, mustRefuse));
      try {
        await fc.assert(property, { seed, numRuns: RUNS, includeErrorInReport: true });
        t.pass(`${dimension}: ${RUNS} generated requests`);
      } catch (error) {
        t.fail(`${dimension} (replay with FUZZ_SEED=${SEED}; this property's seed ${seed}): ${(error as Error).message}`);
      }
    }
    for (const [status, request] of undocumented.get(op.label) ?? []) {
      t.fail(`answered ${status}, which its OpenAPI responses do not list; e.g. ${request}`);
    }
  });
}

t.test('a deeply nested JSON body is a 4xx, not a 500', async (t) => {
  // 100 KB of brackets: far under the body limit. Every layer that walks a body must survive it.
  const depth = 50_000;
  const payload = `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const response = await app.inject({ method: 'POST', url: '/v1/tags', headers: { ...asEditor, 'content-type': 'application/json' }, payload });
  t.ok(response.statusCode < 500, `depth ${depth}: status ${response.statusCode}`);
  t.equal(problemShapeError(response), null, 'answered as problem+json');
  t.same(await tableState(db), initialState, 'nothing was written');
});

t.test('nothing at all was written by the whole run', async (t) => {
  t.same(await tableState(db), initialState);
});

// After the whole-run check: a regression here would write.
t.test('a weak entity tag in If-Match matches nothing (RFC 9110: If-Match compares strongly)', async (t) => {
  const fresh = json<{ id: string; version: number }>(
    await app.inject({ method: 'POST', url: '/v1/tags', headers: asEditor, payload: { name: 'Weak tag target' } }),
  );
  const response = await app.inject({
    method: 'PATCH',
    url: `/v1/tags/${fresh.id}`,
    headers: { ...asEditor, 'if-match': `W/"v${fresh.version}"` },
    payload: { name: 'Changed through a weak tag' },
  });
  t.equal(response.statusCode, 412, 'W/"v1" is refused with 412');
});
