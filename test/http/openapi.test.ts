import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { PROBLEMS, type ProblemCode, problemType } from '../../src/http/app-error.js';
import { buildTestApp, json } from '../helper.js';

const { app } = await buildTestApp(t);

const COMMITTED_DOCUMENT = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
const PROBLEM_MEDIA_TYPE = 'application/problem+json';

type Schema = Record<string, unknown> & { $ref?: string; required?: string[]; properties?: Record<string, unknown> };
interface Header {
  $ref?: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { summary?: string; value?: Record<string, unknown> }>;
}
interface Response {
  description?: string;
  headers?: Record<string, Header>;
  content?: Record<string, MediaType>;
}
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content?: Record<string, MediaType> };
  parameters?: Parameter[];
  responses?: Record<string, Response>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; contact?: Record<string, string>; license?: { name?: string } };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers?: Record<string, Header>; securitySchemes?: Record<string, unknown> };
}

const response = await app.inject({ url: '/openapi.json' });
const document = json<OpenApiDocument>(response);

/** The operations the contract covers: everything under /v1, and the two probes. */
function operations(): { label: string; path: string; method: string; operation: Operation }[] {
  const found = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!(path.startsWith('/v1/') || path === '/healthz' || path === '/readyz')) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      found.push({ label: `${method.toUpperCase()} ${path}`, path, method, operation });
    }
  }
  return found;
}

const isPublic = (operation: Operation) => (operation.security ?? []).some((requirement) => Object.keys(requirement).length === 0);

t.test('GET /openapi.json serves an OpenAPI 3.1 document', async (t) => {
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  t.match(document.openapi, /^3\.1\.\d+$/);
  t.equal(document.info.title, 'Lede API');
  t.ok(document.components.securitySchemes?.bearerAuth, 'the bearer scheme is declared');
});

t.test('the known operations are all documented', async (t) => {
  const ids = new Set(operations().map((op) => op.operation.operationId));
  for (const id of ['health', 'ready', 'listTags', 'getTag', 'createTag', 'updateTag', 'deleteTag', 'createApiKey', 'listApiKeys', 'revokeApiKey']) {
    t.ok(ids.has(id), id);
  }
  t.ok(document.paths['/healthz']?.get, 'GET /healthz');
  t.ok(document.paths['/readyz']?.get, 'GET /readyz');
});

t.test('path templates and path parameters agree', async (t) => {
  for (const { label, path, operation } of operations()) {
    t.notMatch(path, /\/:/, `${label}: OpenAPI {braces}, not :params`);
    const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
    const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
    t.same(declared, inTemplate, `${label}: declares exactly the template's parameters`);
  }
});

t.test('every operation has summary, tags, a unique operationId, security and a 500', async (t) => {
  const all = operations();
  t.ok(all.length >= 10, `${all.length} operations`);
  const seen = new Map<string, string>();
  for (const { label, operation } of all) {
    t.type(operation.summary, 'string', `${label}: summary`);
    t.ok((operation.summary ?? '').trim().length > 0, `${label}: summary is not empty`);
    t.ok(Array.isArray(operation.tags) && operation.tags.length > 0, `${label}: tags`);
    t.type(operation.operationId, 'string', `${label}: operationId`);
    const id = String(operation.operationId);
    t.notOk(seen.has(id), `${label}: operationId ${id} is unique${seen.has(id) ? ` (also ${seen.get(id)})` : ''}`);
    seen.set(id, label);
    t.ok(Array.isArray(operation.security) && operation.security.length > 0, `${label}: security`);
    t.ok(operation.responses?.['500'], `${label}: documents 500`);
    t.ok(operation.responses?.['401'], `${label}: documents 401 (a bad key is 401 everywhere)`);
  }
});

t.test('error responses are application/problem+json with the Problem schema', async (t) => {
  for (const { label, operation } of operations()) {
    for (const [status, entry] of Object.entries(operation.responses ?? {})) {
      if (Number(status) < 400) continue;
      if (label === 'GET /readyz' && status === '503') continue; // its 503 carries the readiness report
      const mediaTypes = Object.keys(entry.content ?? {});
      t.same(mediaTypes, [PROBLEM_MEDIA_TYPE], `${label} ${status}: ${mediaTypes.join(', ')}`);
      t.equal(entry.content?.[PROBLEM_MEDIA_TYPE]?.schema?.$ref, '#/components/schemas/Problem', `${label} ${status}: Problem schema`);
    }
  }
});

t.test('protected operations list 401 and 403; public ones allow anonymous calls', async (t) => {
  const all = operations();
  const protectedOps = all.filter((op) => !isPublic(op.operation));
  t.ok(protectedOps.length >= 5, 'some operations need a key');
  for (const { label, operation } of protectedOps) {
    t.ok(operation.responses?.['401'], `${label}: 401`);
    t.ok(operation.responses?.['403'], `${label}: 403`);
    t.ok(
      operation.security?.every((requirement) => 'bearerAuth' in requirement),
      `${label}: requires the bearer scheme`,
    );
  }
  const byId = new Map(all.map((op) => [op.operation.operationId, op.operation]));
  for (const id of ['createTag', 'updateTag', 'deleteTag', 'createApiKey', 'listApiKeys', 'revokeApiKey']) {
    const operation = byId.get(id);
    t.ok(operation && !isPublic(operation), `${id} is protected`);
  }
  for (const id of ['health', 'ready', 'listTags', 'getTag']) {
    const operation = byId.get(id);
    t.ok(operation && isPublic(operation), `${id} is public`);
  }
  for (const id of ['createTag', 'updateTag', 'createApiKey']) {
    const responses = byId.get(id)?.responses ?? {};
    for (const status of ['400', '413', '415']) t.ok(responses[status], `${id}: ${status}`);
  }
});

t.test('Problem and Tag are named schemas', async (t) => {
  const schemas = document.components.schemas;
  t.ok(schemas.Problem, 'Problem');
  t.ok(schemas.Tag, 'Tag');
  for (const field of ['type', 'title', 'status', 'detail', 'code', 'requestId']) {
    t.ok(schemas.Problem?.required?.includes(field), `Problem requires ${field}`);
  }
  t.ok(schemas.Problem?.properties?.errors, 'Problem has errors');
  for (const field of ['id', 'slug', 'name', 'locale', 'articleCount', 'createdAt', 'updatedAt', 'version']) {
    t.ok(schemas.Tag?.properties?.[field], `Tag has ${field}`);
  }
});

t.test('GET /docs serves the interactive docs page', async (t) => {
  for (const url of ['/docs', '/docs/']) {
    const page = await app.inject({ url });
    t.equal(page.statusCode, 200, url);
    t.match(page.headers['content-type'], /^text\/html/);
    t.match(page.body, /<html/i);
  }
});

// The document says what the server does (issue 11): one schema per concept, every header a
// response sends, every problem code an operation can answer, and prose for every part.

const SCHEMA_PREFIX = '#/components/schemas/';
const HEADER_PREFIX = '#/components/headers/';
const JS_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
/** Operations the rate limit never counts (src/http/rate-limit.ts): the probes and the scrape. */
const UNCOUNTED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function schemaNamed(ref: string | undefined): Schema | undefined {
  return ref?.startsWith(SCHEMA_PREFIX) ? document.components.schemas[ref.slice(SCHEMA_PREFIX.length)] : undefined;
}

/** Every `#/components/schemas/…` name a value refers to, directly. */
function schemaRefs(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) schemaRefs(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith(SCHEMA_PREFIX)) found.add(item.slice(SCHEMA_PREFIX.length));
      else schemaRefs(item, found);
    }
  }
  return found;
}

/** Each object in a value, with its JSON pointer. */
function* objectsIn(value: unknown, pointer = ''): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* objectsIn(item, `${pointer}/${i}`);
  } else if (value !== null && typeof value === 'object') {
    yield [pointer, value as Record<string, unknown>];
    for (const [key, item] of Object.entries(value)) yield* objectsIn(item, `${pointer}/${key}`);
  }
}

/** The subschemas that describe values: properties, items and the members of a combination. */
function* valueSchemas(schema: Schema, pointer: string): Generator<[string, Schema]> {
  const children: [string, unknown][] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) children.push([`${pointer}/properties/${name}`, property]);
  if (schema.items && typeof schema.items === 'object') children.push([`${pointer}/items`, schema.items]);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    children.push([`${pointer}/additionalProperties`, schema.additionalProperties]);
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const members = schema[keyword];
    if (Array.isArray(members)) members.forEach((member, i) => children.push([`${pointer}/${keyword}/${i}`, member]));
  }
  for (const [childPointer, child] of children) {
    yield [childPointer, child as Schema];
    yield* valueSchemas(child as Schema, childPointer);
  }
}

const TYPING_KEYWORDS = ['type', '$ref', 'anyOf', 'oneOf', 'allOf', 'const', 'enum', 'not'];
const isTyped = (schema: Schema) => TYPING_KEYWORDS.some((keyword) => keyword in schema);

function header(response: Response | undefined, name: string): Header | undefined {
  const entry = Object.entries(response?.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  if (entry?.$ref?.startsWith(HEADER_PREFIX)) return document.components.headers?.[entry.$ref.slice(HEADER_PREFIX.length)];
  return entry;
}

const PROBLEM_STATUSES = (operation: Operation, label: string) =>
  Object.entries(operation.responses ?? {}).filter(
    ([status, entry]) => Number(status) >= 400 && entry.content?.[PROBLEM_MEDIA_TYPE] && !(label === 'GET /readyz' && status === '503'),
  );

t.test('one schema per concept: no *Input twins, none unused', async (t) => {
  const names = Object.keys(document.components.schemas);
  t.same(names.filter((name) => name.endsWith('Input')), [], 'no schema is named *Input');
  const reachable = new Set<string>();
  const pending = [...schemaRefs(document.paths), ...schemaRefs(document.components.headers ?? {})];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reachable.has(name)) continue;
    reachable.add(name);
    pending.push(...schemaRefs(document.components.schemas[name]));
  }
  t.same(names.filter((name) => !reachable.has(name)), [], 'every component schema is used');
  t.same([...reachable].filter((name) => !document.components.schemas[name]), [], 'every $ref names a schema');
});

t.test('component schemas give every field a type', async (t) => {
  const untyped: string[] = [];
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    for (const [pointer, child] of valueSchemas(schema, name)) if (!isTyped(child)) untyped.push(pointer);
  }
  t.same(untyped, [], 'no field is `{}` (any value)');
});

t.test('integers are bounded by what is stored, not by JavaScript', async (t) => {
  const problems: string[] = [];
  for (const [pointer, node] of objectsIn(document)) {
    if (node.maximum === JS_SAFE_INTEGER || node.minimum === -JS_SAFE_INTEGER) problems.push(`${pointer}: safe-integer bound`);
    if (node.type === 'integer' && node.format !== 'int32' && node.format !== 'int64') problems.push(`${pointer}: integer without int32/int64 format`);
  }
  t.same(problems, []);
});

t.test('every operation and every parameter is described', async (t) => {
  for (const { label, operation } of operations()) {
    t.ok((operation.description ?? '').trim().length > 0, `${label}: description`);
    for (const parameter of operation.parameters ?? []) {
      t.ok((parameter.description ?? '').trim().length > 0, `${label}: ${parameter.in} parameter ${parameter.name} is described`);
    }
  }
});

t.test('every request body has an example', async (t) => {
  for (const { label, operation } of operations()) {
    for (const [mediaType, media] of Object.entries(operation.requestBody?.content ?? {})) {
      // An optional body is `anyOf: [the body, null]`: the body's schema carries the example.
      const members = [media.schema ?? {}, ...((media.schema?.anyOf as Schema[] | undefined) ?? [])];
      const schemas = members.map((member) => schemaNamed(member.$ref) ?? member);
      const example = media.example ?? media.examples ?? schemas.map((schema) => schema.example ?? schema.examples).find((found) => found !== undefined);
      t.ok(example !== undefined, `${label} ${mediaType}: example`);
    }
  }
});

t.test('tags are listed with descriptions; the document names a contact and a licence', async (t) => {
  const tags = new Map((document.tags ?? []).map((tag) => [tag.name, tag.description]));
  t.ok(tags.size > 0, 'global tags');
  for (const [name, description] of tags) t.ok((description ?? '').trim().length > 0, `tag ${name} is described`);
  for (const { label, operation } of operations()) {
    for (const tag of operation.tags ?? []) t.ok(tags.has(tag), `${label}: tag ${tag} is listed`);
  }
  t.ok(document.info.contact && Object.keys(document.info.contact).length > 0, 'info.contact');
  t.ok(document.info.license?.name, 'info.license');
});

t.test('responses document the headers the server sends', async (t) => {
  t.ok(document.components.headers && Object.keys(document.components.headers).length > 0, 'reusable components.headers');
  for (const { label, path, method, operation } of operations()) {
    const responses = operation.responses ?? {};
    t.ok(responses['429'], `${label}: 429 (every route takes a key, and failed keys are limited)`);
    for (const [status, response] of Object.entries(responses)) {
      const where = `${label} ${status}`;
      t.equal(header(response, 'X-Request-Id')?.required, true, `${where}: X-Request-Id`);
      if (status === '201' || status === '301') t.equal(header(response, 'Location')?.required, true, `${where}: Location`);
      if (status === '429' || status === '503') t.equal(header(response, 'Retry-After')?.required, true, `${where}: Retry-After`);
      if (Number(status) >= 400) t.equal(header(response, 'Cache-Control')?.required, true, `${where}: Cache-Control (no-store)`);
      if (!UNCOUNTED_PATHS.has(path) && (status.startsWith('2') || status.startsWith('4'))) {
        for (const name of RATE_LIMIT_HEADERS) t.ok(header(response, name), `${where}: ${name}`);
      }
      const eventStream = response.content?.['text/event-stream'] !== undefined;
      if (eventStream) {
        // A stream has no end to hash: no ETag, no 304; never stored.
        t.notOk(header(response, 'ETag'), `${where}: no ETag on an event stream`);
        t.notOk(responses['304'], `${label}: no 304 for an event stream`);
        t.equal(header(response, 'Cache-Control')?.required, true, `${where}: Cache-Control (no-store)`);
      } else if (method === 'get' && (status === '200' || status === '304')) {
        const etag = header(response, 'ETag');
        t.equal(etag?.required, true, `${where}: ETag`);
        t.equal(etag?.schema?.type, 'string', `${where}: the ETag is a string`);
        t.equal(header(response, 'Cache-Control')?.required, true, `${where}: Cache-Control`);
      }
      const body = schemaNamed(response.content?.['application/json']?.schema?.$ref);
      if (method !== 'get' && (status === '200' || status === '201') && body?.properties?.version) {
        t.equal(header(response, 'ETag')?.required, true, `${where}: ETag of the version written`);
      }
    }
  }
  const getArticle = operations().find((op) => op.operation.operationId === 'getArticle')?.operation;
  t.notOk(getArticle?.responses?.['301']?.content, 'the 301 has no body');
  const anonymousRead = operations().find((op) => op.operation.operationId === 'listTags')?.operation.responses?.['200'];
  for (const name of ['Surrogate-Key', 'X-Cache']) t.ok(header(anonymousRead, name), `listTags 200: ${name}`);
  for (const [name, definition] of Object.entries(document.components.headers ?? {})) {
    t.ok((definition.description ?? '').length > 0, `components.headers.${name} is described`);
    t.ok(definition.schema?.type, `components.headers.${name} has a typed schema`);
  }
});

t.test('If-Match is required wherever its absence is answered 428', async (t) => {
  const withPrecondition = operations().filter((op) => op.operation.responses?.['428']);
  t.ok(withPrecondition.length >= 8, `${withPrecondition.length} conditional writes`);
  for (const { label, operation } of withPrecondition) {
    const ifMatch = (operation.parameters ?? []).find((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match');
    t.equal(ifMatch?.required, true, `${label}: If-Match required`);
  }
});

t.test('each problem response lists its codes with one example per code', async (t) => {
  const codesOf = (id: string, status: string) =>
    Object.values(operations().find((op) => op.operation.operationId === id)?.operation.responses?.[status]?.content?.[PROBLEM_MEDIA_TYPE]?.examples ?? {})
      .map((example) => example.value?.code)
      .sort();
  for (const { label, operation } of operations()) {
    for (const [status, response] of PROBLEM_STATUSES(operation, label)) {
      const where = `${label} ${status}`;
      const examples = Object.entries(response.content?.[PROBLEM_MEDIA_TYPE]?.examples ?? {});
      t.ok(examples.length > 0, `${where}: examples`);
      for (const [name, example] of examples) {
        const value = example.value ?? {};
        const code = value.code as ProblemCode;
        t.ok(Object.hasOwn(PROBLEMS, code), `${where} ${name}: ${String(code)} is in the catalogue`);
        if (!Object.hasOwn(PROBLEMS, code)) continue;
        t.equal(value.status, Number(status), `${where} ${name}: status matches the response`);
        t.equal(PROBLEMS[code].status, Number(status), `${where} ${name}: the catalogue gives ${code} this status`);
        t.equal(value.type, problemType(code), `${where} ${name}: type`);
        t.equal(value.title, PROBLEMS[code].title, `${where} ${name}: title`);
        t.match(response.description ?? '', code, `${where}: the description names ${code}`);
      }
    }
  }
  t.same(codesOf('getTag', '404'), ['TAG_NOT_FOUND']);
  t.same(codesOf('getArticleRevision', '404'), ['ARTICLE_NOT_FOUND', 'REVISION_NOT_FOUND']);
  t.same(codesOf('revokeApiKey', '404'), ['KEY_NOT_FOUND']);
  t.same(codesOf('updateTimelineEntry', '404'), ['TIMELINE_ENTRY_NOT_FOUND']);
  t.same(codesOf('createTag', '409'), ['TAG_SLUG_TAKEN']);
  t.same(codesOf('createArticle', '409'), ['ARTICLE_SLUG_TAKEN']);
  t.same(codesOf('createArticle', '422'), ['UNKNOWN_REFERENCE']);
  t.same(codesOf('createTag', '401'), ['AUTH_REQUIRED', 'INVALID_API_KEY'], 'a protected route: no key or a wrong one');
  t.same(codesOf('getTag', '401'), ['INVALID_API_KEY'], 'a public route: only a wrong key');
  t.same(codesOf('createTag', '403'), ['FORBIDDEN']);
  t.same(codesOf('updateTag', '412'), ['PRECONDITION_FAILED']);
  t.same(codesOf('updateTag', '428'), ['PRECONDITION_REQUIRED']);
  t.same(codesOf('listTags', '429'), ['RATE_LIMITED']);
  t.same(codesOf('listTags', '503'), ['SERVICE_UNAVAILABLE']);
  t.ok(codesOf('listTags', '400').includes('INVALID_CURSOR'), 'a paged list: a bad cursor is 400');
  t.ok(codesOf('createTag', '400').includes('MALFORMED_JSON'), 'a write: a body that is not JSON is 400');
});

t.test('feeds: RSS and Atom are XML text, JSON Feed 1.1 an object', async (t) => {
  for (const id of ['articlesFeed', 'timelineFeed']) {
    const content = operations().find((op) => op.operation.operationId === id)?.operation.responses?.['200']?.content ?? {};
    t.same(Object.keys(content).sort(), ['application/atom+xml', 'application/feed+json', 'application/rss+xml'], `${id}: media types`);
    for (const xml of ['application/rss+xml', 'application/atom+xml']) t.equal(content[xml]?.schema?.type, 'string', `${id} ${xml}: a string`);
    const jsonFeed = schemaNamed(content['application/feed+json']?.schema?.$ref) ?? content['application/feed+json']?.schema;
    t.equal(jsonFeed?.type, 'object', `${id} JSON Feed: an object`);
    for (const field of ['version', 'title', 'items']) t.ok(jsonFeed?.properties?.[field], `${id} JSON Feed: ${field}`);
  }
});

t.test(
  'the committed openapi/openapi.json is the served document',
  { skip: existsSync(COMMITTED_DOCUMENT) ? false : 'openapi/openapi.json is not committed yet' },
  async (t) => {
    const committed: unknown = JSON.parse(readFileSync(COMMITTED_DOCUMENT, 'utf8'));
    t.strictSame(committed, document, 'up to date: run `npm run openapi` and commit the result if this fails');
  },
);
