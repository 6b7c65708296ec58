import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { Problem } from './problem.schemas.js';

export const DOCS_PREFIX = '/docs';
const BEARER_SCHEME = 'bearerAuth';

const NotModified = z.null();

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
  '412': 'If-Match names an old version: nothing was written; read again and retry',
  '413': 'Body too large',
  '415': 'Body is not JSON',
  '422': 'Names a tag or article that does not exist; nothing was written',
  '428': 'If-Match is missing',
  '429': 'Too many requests for this key or address: retry after Retry-After seconds',
  '500': 'Unexpected server error (logged with the request id)',
  '503': 'Database unavailable; retry after Retry-After seconds',
};

/** Response entries for the given statuses: problem+json for errors, an empty body for 304. */
export function problemResponses(...statuses: number[]): Record<number, z.ZodType> {
  const responses: Record<number, z.ZodType> = {};
  for (const status of statuses) {
    responses[status] = status === 304 ? NotModified : Problem;
  }
  return responses;
}

/**
 * Fills in what every route shares, so no route can forget it: its security requirement (from
 * config.access) and the error statuses the shared layers can answer with.
 */
function addSharedRouteDocs(route: RouteOptions): void {
  const schema = route.schema;
  const access = route.config?.access;
  if (!schema || schema.hide || access === undefined) return;
  const reads = [route.method].flat().every((method) => method === 'GET' || method === 'HEAD');
  // 400: any URL can be malformed (bad percent-encoding, a NUL in a query parameter).
  const statuses = [400, 401, 500, 503];
  if (access !== 'public') statuses.push(403);
  // Fastify reads a body sent with any write, declared or not: too large is 413, not JSON is 415.
  if (!reads) statuses.push(413, 415);
  // Every successful read carries an ETag and answers If-None-Match.
  if (reads) statuses.push(304);
  route.schema = {
    ...schema,
    security: access === 'public' ? [{}, { [BEARER_SCHEME]: [] }] : [{ [BEARER_SCHEME]: [] }],
    response: { ...problemResponses(...statuses), ...(schema.response as object) },
  };
}

type OpenApiResponse = { description?: string; content?: Record<string, unknown> };
type OpenApiRequestBody = { required?: boolean; content?: Record<string, { schema?: { anyOf?: { type?: string }[] } }> };
type OpenApiDocument = {
  paths?: Record<string, Record<string, { responses?: Record<string, OpenApiResponse>; requestBody?: OpenApiRequestBody }>>;
};

/** A body schema that accepts null (`.nullish()`) is an optional body. */
function bodyIsOptional(body: OpenApiRequestBody): boolean {
  return Object.values(body.content ?? {}).some((media) => media.schema?.anyOf?.some((option) => option.type === 'null'));
}

/** Says what each status means, and that errors are served as application/problem+json. */
function describeResponses(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (operation.requestBody && bodyIsOptional(operation.requestBody)) operation.requestBody.required = false;
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const problem = Object.values(response.content ?? {}).find((media) =>
          (media as { schema?: { $ref?: string } }).schema?.$ref?.endsWith('/Problem'),
        );
        if (problem) response.content = { 'application/problem+json': problem };
        if (status === '304' || status === '204') delete response.content;
        const description = STATUS_DESCRIPTIONS[status];
        if (description && (!response.description || response.description === 'Default Response')) {
          response.description = description;
        }
      }
    }
  }
  return document;
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
        },
        // Relative: "Try it out" calls whichever host and port served the page.
        servers: [{ url: '/' }],
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
