import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { PROBLEMS, type ProblemCode } from './app-error.js';
import { tidyComponents } from './openapi-components.js';
import { documentResponses, ROUTE_DOCS, type ResponsesDocument, type RouteDocs } from './openapi-responses.js';
import { Problem } from './problem.schemas.js';

declare module 'fastify' {
  interface FastifySchema {
    /** What the shared layers tell the OpenAPI document about a route (openapi-responses.ts). */
    [ROUTE_DOCS]?: RouteDocs;
  }
}

export const DOCS_PREFIX = '/docs';
const BEARER_SCHEME = 'bearerAuth';

/**
 * Relative: "Try it out" calls whichever host and port served the page. Public (`x-internal`, the
 * audience OWASP API9 asks each server to state): anyone may read published content.
 */
const SERVERS = [{ url: '/', 'x-internal': false }];

/** The groups operations are listed in (each route names its own), in reading order. */
const OPENAPI_TAGS = [
  { name: 'Articles', description: 'Articles: drafts, publishing and scheduling, revisions; anonymous readers see live ones only.' },
  { name: 'Tags', description: 'Tags per locale, by id or slug; an article lists its tags in order.' },
  { name: 'Timeline', description: "The latest-news timeline: flash lines and published articles' entries, newest first." },
  { name: 'Feeds', description: 'RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the latest articles and of the timeline, and sitemaps of the website.' },
  { name: 'Events', description: 'The change log, in commit order: sync from your last id, deletions included.' },
  { name: 'Webhooks', description: 'Signed deliveries of the change log to your endpoints (Standard Webhooks); admin only.' },
  { name: 'API keys', description: 'Keys and their roles (reader, editor, admin); admin only.' },
  { name: 'Operations', description: 'Probes and metrics for whoever runs Lede; never rate limited.' },
];

const NotModified = z.null();

/** Problem schemas standing for declared codes (each renders as the one Problem), and their codes. */
const declaredProblems = new Map<string, z.ZodType>();
const codesOfProblem = new Map<z.ZodType, ProblemCode[]>();

function problemCarrying(codes: ProblemCode[]): z.ZodType {
  if (codes.length === 0) return Problem;
  const key = [...codes].sort().join(' ');
  let schema = declaredProblems.get(key);
  if (!schema) {
    schema = z.lazy(() => Problem);
    declaredProblems.set(key, schema);
    codesOfProblem.set(schema, codes);
  }
  return schema;
}

/**
 * Response entries: problem+json for errors, an empty body for 304. A problem code stands for its
 * status (from the catalogue) and is listed, with an example, in the document; a bare error status
 * lists every code the catalogue gives that status.
 */
export function problemResponses(...entries: (number | ProblemCode)[]): Record<number, z.ZodType> {
  const codesByStatus = new Map<number, ProblemCode[]>();
  for (const entry of entries) {
    const status = typeof entry === 'number' ? entry : PROBLEMS[entry].status;
    const codes = codesByStatus.get(status) ?? [];
    if (typeof entry !== 'number') codes.push(entry);
    codesByStatus.set(status, codes);
  }
  const responses: Record<number, z.ZodType> = {};
  for (const [status, codes] of codesByStatus) responses[status] = status === 304 ? NotModified : problemCarrying(codes);
  return responses;
}

/** Answered before any route is found (Node's own refusals, unknown paths): no operation lists them. */
const ROUTER_CODES = new Set<ProblemCode>(['MALFORMED_REQUEST', 'REQUEST_TIMEOUT', 'HEADERS_TOO_LARGE', 'ROUTE_NOT_FOUND']);

/** The codes each error status of a route can carry: the shared layers' and the route's own. */
function problemCodes(responses: Record<string, unknown>, shared: ProblemCode[]): Record<string, ProblemCode[]> {
  const problems: Record<string, ProblemCode[]> = {};
  for (const [status, entry] of Object.entries(responses)) {
    if (entry !== Problem && !codesOfProblem.has(entry as z.ZodType)) continue;
    const atStatus = (code: ProblemCode) => PROBLEMS[code].status === Number(status);
    let codes = [...shared.filter(atStatus), ...(codesOfProblem.get(entry as z.ZodType) ?? [])];
    if (codes.length === 0) codes = (Object.keys(PROBLEMS) as ProblemCode[]).filter((code) => atStatus(code) && !ROUTER_CODES.has(code));
    problems[status] = [...new Set(codes)];
  }
  return problems;
}

/**
 * Fills in what every route shares, so no route can forget it: its security requirement (from
 * config.access), and the error statuses and codes the shared layers can answer with.
 */
function addSharedRouteDocs(route: RouteOptions): void {
  const schema = route.schema;
  const access = route.config?.access;
  if (!schema || schema.hide || access === undefined) return;
  const reads = [route.method].flat().every((method) => method === 'GET' || method === 'HEAD');
  const query = schema.querystring;
  const paged = query instanceof z.ZodObject && 'cursor' in query.shape;
  // 400: any URL can be malformed (bad percent-encoding, a NUL in a query parameter). 429: every
  // route takes a key, and failed keys are limited per address, counted or not.
  const statuses = [400, 401, 429, 500, 503];
  const shared: ProblemCode[] = ['VALIDATION_FAILED', 'INVALID_API_KEY', 'RATE_LIMITED', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];
  if (access !== 'public') {
    statuses.push(403);
    shared.push('AUTH_REQUIRED', 'FORBIDDEN');
  }
  // Fastify reads a body sent with any write, declared or not: too large is 413, not JSON is 415.
  if (!reads) {
    statuses.push(413, 415);
    shared.push('MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  }
  if (paged) shared.push('INVALID_CURSOR');
  // Every successful read carries an ETag and answers If-None-Match; a stream has no end to tag.
  const stream = route.config?.stream === true;
  if (reads && !stream) statuses.push(304);
  const response = { ...problemResponses(...statuses), ...(schema.response as object) };
  route.schema = {
    ...schema,
    security: access === 'public' ? [{}, { [BEARER_SCHEME]: [] }] : [{ [BEARER_SCHEME]: [] }],
    response,
    [ROUTE_DOCS]: { ...schema[ROUTE_DOCS], problems: problemCodes(response, shared), ...(stream ? { stream } : {}) },
  };
}

type OpenApiDocument = ResponsesDocument;

/** The document as clients read it: each response's meaning, codes and headers; one schema per concept. */
function describeResponses(document: OpenApiDocument): OpenApiDocument {
  return tidyComponents(documentResponses(document));
}

type OpenApiParameter = { in?: string; example?: unknown; examples?: unknown; schema?: unknown };

function deleteExamples(schema: unknown): void {
  if (typeof schema !== 'object' || schema === null) return;
  delete (schema as { example?: unknown }).example;
  delete (schema as { examples?: unknown }).examples;
  Object.values(schema).forEach(deleteExamples);
}

/**
 * Query parameters carry no examples: swagger-ui's "Try it out" fills each one in as a value, and
 * an untouched list request would be filtered by all of them (publishedAfter = publishedBefore).
 */
function withoutQueryExamples(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const parameters = (operation as { parameters?: OpenApiParameter[] }).parameters ?? [];
      parameters.filter((parameter) => parameter.in === 'query').forEach(deleteExamples);
    }
  }
  return document;
}

/**
 * The docs page's content policy: its own origin only, and nothing inline but the one style
 * element in swagger-ui's logo (an inline SVG), allowed by its hash. swagger-ui's default policy
 * adds upgrade-insecure-requests, which sends every asset of a page opened over plain http by a
 * LAN address or name to https: the page stays blank.
 */
const DOCS_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"],
};

export const openApiPlugin = fp(
  async function openApi(app: FastifyInstance) {
    app.addHook('onRoute', addSharedRouteDocs);

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Lede API',
          version: '1.0.0',
          description:
            'Lede is a headless CMS for newsrooms: articles, tags and the latest-news timeline. ' +
            'Errors are RFC 9457 problem+json with a stable `code`. Writes to existing resources ' +
            'need `If-Match` with the ETag of your last read.',
          // No public licence or support address exists yet: these say so until the project names one.
          contact: { name: 'The Lede maintainers' },
          license: { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' },
        },
        tags: OPENAPI_TAGS,
        servers: SERVERS,
        components: {
          securitySchemes: {
            [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'An API key: `lede_…`' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (input) =>
        withoutQueryExamples(describeResponses(jsonSchemaTransformObject(input) as OpenApiDocument)) as never,
    });

    await app.register(async function docsPage(docs) {
      docs.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'public' };
      });
      await docs.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: DOCS_CSP });
    });

    app.get('/openapi.json', {
      config: { access: 'public' },
      schema: { hide: true },
      handler: async () => app.swagger(),
    });
  },
  { name: 'lede-openapi' },
);
