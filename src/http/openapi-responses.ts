import { PROBLEMS, type ProblemCode } from './app-error.js';
import { problemExample } from './problem-examples.js';

/**
 * What every response of the document says beyond its body: what its status means, the problem
 * codes it can carry (one example each), and the headers the shared layers send with it.
 */

/** What the shared layers tell the document about one route; read and removed here. */
export interface RouteDocs {
  /** The rate limit counts the route: its answers carry RateLimit-* (src/http/rate-limit.ts). */
  counted?: boolean;
  /** A long-lived event stream: no ETag, no 304, nothing to purge (src/modules/events/stream.routes.ts). */
  stream?: boolean;
  /** The codes each error status of the route can carry (src/http/openapi.ts). */
  problems?: Record<string, ProblemCode[]>;
}
export const ROUTE_DOCS = 'x-lede';

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const HEADER_PREFIX = '#/components/headers/';
const MAX_WINDOW_SECONDS = 86_400;
const INT32_MAX = 2_147_483_647;

const STATUS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '204': 'Done; no content',
  '304': 'Not modified: your cached copy (If-None-Match) is current',
  '400': 'Invalid input; `errors` names each invalid field',
  '401': 'Missing, unknown or revoked API key',
  '403': "The key's role does not allow this",
  '404': 'Not found',
  '409': 'Conflicts with existing data',
  '410': 'Gone: what was asked for is no longer kept',
  '412': 'If-Match names an old version: nothing was written; read again and retry',
  '413': 'Body too large',
  '415': 'Body is not JSON',
  '422': 'Names a tag or article that does not exist; nothing was written',
  '428': 'If-Match is missing',
  '429': 'Too many requests for this key or address: retry after Retry-After seconds',
  '500': 'Unexpected server error (logged with the request id)',
  '503': 'Database unavailable; retry after Retry-After seconds',
};

const seconds = (maximum: number) => ({ type: 'integer', format: 'int32', minimum: 0, maximum });

/** Every header a response can carry, once: responses refer to these. */
export const RESPONSE_HEADERS = {
  ETag: {
    description:
      'The version of what this answer shows: `"v{version}-{hash}"` for one resource (send it as If-Match to change ' +
      'the resource), `"{hash}"` for anything else. Send it as If-None-Match to revalidate a read.',
    required: true,
    schema: { type: 'string', example: '"v3-aUG_7iJCHSr3Wlwv"' },
  },
  Location: {
    description: 'Where the resource now is: the new resource (201), or the current URL of a former slug (301)',
    required: true,
    schema: { type: 'string', format: 'uri-reference', example: '/v1/tags/5d0c1c1e-6f2a-4c59-9a57-3b7e2f0a8d11' },
  },
  'Cache-Control': {
    description:
      'Reads anyone may see, read anonymously: `public, max-age=…, stale-while-revalidate=…`; reads with a key: ' +
      '`private, no-cache`; errors and probes: `no-store`.',
    required: true,
    schema: { type: 'string', example: 'public, max-age=60, stale-while-revalidate=300' },
  },
  'Surrogate-Key': {
    description:
      'What the answer shows, as space-separated keys (`article:{id}`, `tag:{id}`, `timeline:{id}`, and `articles`, ' +
      '`tags`, `timeline`, `feeds` for whole kinds), at most 1,500 bytes: a CDN purges by them when content changes.',
    required: true,
    schema: { type: 'string', maxLength: 1500, example: 'tag:5d0c1c1e-6f2a-4c59-9a57-3b7e2f0a8d11' },
  },
  'Last-Modified': {
    description:
      'Feeds: when what the feed shows last changed, to the second; it also moves when something leaves the feed (an ' +
      'unpublish, a delete). Send it as If-Modified-Since to revalidate. Absent from a feed with no items.',
    required: false,
    schema: { type: 'string', example: 'Fri, 22 Nov 2024 18:00:00 GMT' },
  },
  'X-Cache': {
    description: 'Anonymous reads: `hit` when answered from the response cache, `miss` when rendered. Absent with RESPONSE_CACHE_MB=0.',
    required: false,
    schema: { type: 'string', enum: ['hit', 'miss'] },
  },
  'X-Request-Id': {
    description: 'The request id: yours when you sent a short, plain X-Request-Id, else a new UUID. Quote it when reporting a problem.',
    required: true,
    schema: { type: 'string', maxLength: 128, example: '9d1e6f0a-2b7c-4c3d-8e5f-6a7b8c9d0e1f' },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed per window for this key or address. Sent on every answer the rate limit counts (RATE_LIMIT_MAX > 0).',
    required: false,
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: INT32_MAX },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window. Sent with RateLimit-Limit.',
    required: false,
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window ends. Sent with RateLimit-Limit.',
    required: false,
    schema: seconds(MAX_WINDOW_SECONDS),
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: seconds(MAX_WINDOW_SECONDS),
  },
  'WWW-Authenticate': {
    description: 'How to authenticate: a bearer API key.',
    required: true,
    schema: { type: 'string', example: 'Bearer realm="lede"' },
  },
} as const;
type HeaderName = keyof typeof RESPONSE_HEADERS;

/** Sent by a few write answers only (a new key: `no-store`), so a 201 may carry it. */
const CACHE_CONTROL_ON_WRITES = {
  description: 'Sent where an answer must not be stored anywhere: `no-store` on an answer holding a new API key.',
  required: false,
  schema: { type: 'string', example: 'no-store' },
};

type Json = Record<string, unknown>;
type Header = Json & { required?: boolean };
interface Media {
  schema?: Json & { $ref?: string; anyOf?: (Json & { type?: string; $ref?: string })[] };
  examples?: Record<string, { summary: string; value: unknown }>;
}
interface Response {
  description?: string;
  headers?: Record<string, Header>;
  content?: Record<string, Media>;
}
interface Operation {
  security?: Json[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { required?: boolean; content?: Record<string, Media> };
  responses?: Record<string, Response>;
  [ROUTE_DOCS]?: RouteDocs;
}
export interface ResponsesDocument {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json>; headers?: Json } & Json;
}

interface Context {
  path: string;
  method: string;
  status: string;
  isPublic: boolean;
  counted: boolean;
  stream: boolean;
  /** The JSON body's schema, resolved. */
  body: Json | undefined;
}

/** The headers the shared layers send with one response (see caching.ts, cache-plugin.ts, rate-limit.ts, error-handler.ts). */
function sharedHeaders({ path, method, status, isPublic, counted, stream, body }: Context): HeaderName[] {
  const code = Number(status);
  const names: HeaderName[] = ['X-Request-Id'];
  if (counted) names.push('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
  if (code === 429 || code === 503) names.push('Retry-After');
  if (code === 401) names.push('WWW-Authenticate');
  if (code >= 400) names.push('Cache-Control');
  if (code === 201 || code === 301) names.push('Location');
  if (method === 'get' && stream) {
    if (code === 200) names.push('Cache-Control');
  } else if (method === 'get') {
    if (code === 200 || code === 304) names.push('ETag', 'Cache-Control');
    // Content reads name what they show (the handlers' Surrogate-Key); the probes show nothing to purge.
    if ((code === 200 || code === 304) && isPublic && path.startsWith('/v1/')) names.push('Surrogate-Key');
    if ((code === 200 || code === 304) && path.startsWith('/v1/feeds/')) names.push('Last-Modified');
    // Set once the cache has looked the request up, which a 429 (refused before that) never reaches.
    if (isPublic && code !== 429) names.push('X-Cache');
  } else if ((code === 200 || code === 201) && body?.properties && 'version' in (body.properties as Json)) {
    // A write answering a resource with a version answers its new ETag, for the next If-Match.
    names.push('ETag');
  }
  return [...new Set(names)];
}

/** Route-declared headers stay (renamed to their usual case and marked sent); the shared ones are added by reference. */
function documentHeaders(response: Response, context: Context): void {
  const declared = new Map(Object.entries(response.headers ?? {}).map(([name, header]) => [name.toLowerCase(), header]));
  const headers: Record<string, Header> = {};
  const canonical = new Map(Object.keys(RESPONSE_HEADERS).map((name) => [name.toLowerCase(), name]));
  for (const [lower, header] of declared) headers[canonical.get(lower) ?? lower] = { ...header, required: true };
  for (const name of sharedHeaders(context)) {
    if (!declared.has(name.toLowerCase())) headers[name] = { $ref: `${HEADER_PREFIX}${name}` };
  }
  if (context.method !== 'get' && context.status === '201' && !declared.has('cache-control')) headers['Cache-Control'] = CACHE_CONTROL_ON_WRITES;
  response.headers = headers;
}

function describeProblems(status: string, response: Response, codes: ProblemCode[]): void {
  const media = response.content?.[PROBLEM_MEDIA_TYPE];
  if (!media || codes.length === 0) return;
  media.examples = Object.fromEntries(codes.map((code) => [code, { summary: PROBLEMS[code].title, value: problemExample(code) }]));
  const list = codes.map((code) => `\`${code}\``).join(', ');
  response.description = `${STATUS_DESCRIPTIONS[status] ?? response.description ?? 'Error'}. ${codes.length > 1 ? 'Codes' : 'Code'}: ${list}.`;
}

/**
 * A response served in several syntaxes (a feed as RSS, Atom or JSON Feed) is declared as a union;
 * each media type gets the member of its syntax: XML types a string, JSON types the object.
 */
function narrowBySyntax(content: Record<string, Media>): void {
  for (const [mediaType, media] of Object.entries(content)) {
    const members = media.schema?.anyOf;
    if (!members || Object.keys(content).length < 2) continue;
    const xml = /[/+]xml$/.test(mediaType);
    const member = members.find((candidate) => (xml ? candidate.type === 'string' : candidate.type !== 'string'));
    // Each media type has its own object: the media types of one response share theirs.
    if (member) content[mediaType] = { ...media, schema: member };
  }
}

/** A body schema that accepts null (`.nullish()`) is an optional body. */
function bodyIsOptional(body: NonNullable<Operation['requestBody']>): boolean {
  return Object.values(body.content ?? {}).some((media) => media.schema?.anyOf?.some((option) => option.type === 'null'));
}

function resolve(document: ResponsesDocument, schema: Media['schema']): Json | undefined {
  const ref = schema?.$ref;
  return ref ? document.components?.schemas?.[ref.split('/').pop()!] : schema;
}

function documentOperation(document: ResponsesDocument, path: string, method: string, operation: Operation): void {
  const docs = operation[ROUTE_DOCS] ?? {};
  delete operation[ROUTE_DOCS];
  if (operation.requestBody && bodyIsOptional(operation.requestBody)) operation.requestBody.required = false;
  const isPublic = (operation.security ?? []).some((requirement) => Object.keys(requirement).length === 0);
  const responses = operation.responses ?? {};
  for (const [status, response] of Object.entries(responses)) {
    const problem = Object.values(response.content ?? {}).find((media) => media.schema?.$ref?.endsWith('/Problem'));
    if (problem) response.content = { [PROBLEM_MEDIA_TYPE]: problem };
    if (status === '304' || status === '204') delete response.content;
    const description = STATUS_DESCRIPTIONS[status];
    if (description && (!response.description || response.description === 'Default Response')) response.description = description;
    if (response.content) narrowBySyntax(response.content);
    describeProblems(status, response, docs.problems?.[status] ?? []);
    const body = resolve(document, response.content?.['application/json']?.schema);
    documentHeaders(response, { path, method, status, isPublic, counted: docs.counted === true, stream: docs.stream === true, body });
  }
  // Without If-Match the server answers 428: for a client, the header is required.
  if (responses['428']) {
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === 'header' && parameter.name.toLowerCase() === 'if-match') parameter.required = true;
    }
  }
}

export function documentResponses<T extends ResponsesDocument>(document: T): T {
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) documentOperation(document, path, method, operation);
  }
  document.components = { ...document.components, headers: { ...document.components?.headers, ...RESPONSE_HEADERS } };
  return document;
}
