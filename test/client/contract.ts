import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Checks what the server answers against the committed OpenAPI document, as an integrator's
 * generated client relies on it: the status is documented for the operation, the content type is
 * one the document names, every header the document requires is there, every header of ours the
 * server sends is documented, and the body validates against the response schema.
 */

type Json = Record<string, unknown>;
interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, { required?: boolean }> }>;
}

/** Headers the server sends that a client may read: each must be documented where it is sent. */
const OUR_HEADERS = [
  'etag',
  'location',
  'cache-control',
  'surrogate-key',
  'x-cache',
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
  'last-modified',
];

export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => void;

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function contractChecker(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document, 'lede');
  const paths = document.paths as Record<string, Record<string, Operation>>;
  // Literal paths before templated ones (`/v1/feeds/articles.{format}` before `/v1/articles/{idOrSlug}`).
  const templates = Object.keys(paths)
    .map((template) => ({
      template,
      params: (template.match(/\{/g) ?? []).length,
      pattern: new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }))
    .sort((a, b) => a.params - b.params);
  const validators = new Map<string, ReturnType<Ajv2020['getSchema']>>();

  function validatorFor(pointer: string) {
    if (!validators.has(pointer)) validators.set(pointer, ajv.getSchema(`lede#${pointer}`));
    return validators.get(pointer);
  }

  /** Problems with one exchange; an empty list when it matches the document. */
  return function check(exchange: Exchange): string[] {
    const where = `${exchange.method} ${exchange.url} → ${exchange.status}`;
    const path = new URL(exchange.url, 'http://lede.test').pathname;
    const match = templates.find((candidate) => candidate.pattern.test(path));
    if (!match) return [`${where}: no path of the document matches`];
    const method = exchange.method.toLowerCase();
    const operation = paths[match.template]?.[method];
    if (!operation) return [`${where}: ${method} is not documented on ${match.template}`];
    const status = String(exchange.status);
    const response = operation.responses?.[status] ?? operation.responses?.[`${status[0]}XX`] ?? operation.responses?.default;
    if (!response) return [`${where}: status not documented for ${method} ${match.template}`];
    const problems: string[] = [];
    const documented = new Map(Object.entries(response.headers ?? {}).map(([name, header]) => [name.toLowerCase(), header]));
    for (const [name, header] of documented) {
      if (header.required && exchange.headers[name] === undefined) problems.push(`${where}: required header ${name} missing`);
    }
    for (const name of OUR_HEADERS) {
      if (exchange.headers[name] !== undefined && !documented.has(name)) problems.push(`${where}: header ${name} sent but not documented`);
    }
    if (exchange.body === '') {
      if (response.content && exchange.status !== 304) problems.push(`${where}: empty body where the document describes one`);
      return problems;
    }
    const contentType = (exchange.headers['content-type'] ?? '').split(';')[0]!.trim();
    const media = response.content?.[contentType];
    if (!media) {
      problems.push(`${where}: content type ${contentType} not documented (${Object.keys(response.content ?? {}).join(', ') || 'none'})`);
      return problems;
    }
    if (!media.schema) return problems;
    const isJson = contentType.endsWith('json');
    let body: unknown = exchange.body;
    if (isJson) {
      try {
        body = JSON.parse(exchange.body);
      } catch {
        return [...problems, `${where}: body is not JSON`];
      }
    }
    const statusKey = operation.responses?.[status] ? status : operation.responses?.[`${status[0]}XX`] ? `${status[0]}XX` : 'default';
    const pointer = ['', 'paths', match.template, method, 'responses', statusKey, 'content', contentType, 'schema'].map(escapePointer).join('/');
    const validate = validatorFor(pointer);
    if (!validate) return [...problems, `${where}: schema ${pointer} did not compile`];
    if (!validate(body)) problems.push(`${where}: body does not match the schema: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
    return problems;
  };
}

function flatHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` that hands each request to the app in process (no port), and reports every exchange.
 * Redirects are returned as they are, as a client that follows none sees them.
 */
export function injectFetch(app: FastifyInstance, onExchange: (exchange: Exchange) => void) {
  return async (input: Request): Promise<Response> => {
    const url = new URL(input.url);
    const payload = input.body ? Buffer.from(await input.arrayBuffer()) : undefined;
    const reply = await app.inject({
      method: input.method as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(input.headers),
      ...(payload ? { payload } : {}),
    });
    const headers = flatHeaders(reply.headers);
    onExchange({ method: input.method, url: `${url.pathname}${url.search}`, status: reply.statusCode, headers, body: reply.body });
    return new Response(NULL_BODY_STATUSES.has(reply.statusCode) ? null : new Uint8Array(reply.rawPayload), { status: reply.statusCode, headers });
  };
}
