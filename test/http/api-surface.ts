import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.js';

/**
 * Shared by the fuzz and access tests: the operations the app itself documents (so a new route is
 * covered without anyone remembering to add it), a fingerprint of everything written, and the
 * problem+json shape every refusal must have.
 */

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  $ref?: string;
}

export interface ApiOperation {
  /** `GET /v1/tags/{idOrSlug}` */
  label: string;
  operationId: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** OpenAPI path template, `{name}` for parameters. */
  path: string;
  /** True when anyone may call it (`{}` among its security requirements). */
  isPublic: boolean;
  pathParams: string[];
  queryParams: string[];
  headerParams: string[];
  /** The JSON body schema (references resolved one level), or null when the operation takes none. */
  body: JsonSchema | null;
  responses: string[];
}

interface RawOperation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

interface RawDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

function resolve(document: RawDocument, schema: JsonSchema | undefined): JsonSchema | null {
  if (!schema) return null;
  const name = schema.$ref?.split('/').pop();
  if (name) return document.components?.schemas?.[name] ?? null;
  // `PublishRequest.nullish()` is documented as anyOf [ref, null]: the object is what matters.
  const variant = (schema.anyOf ?? schema.oneOf)?.find((option) => option.$ref || option.properties);
  return variant ? resolve(document, variant) : schema;
}

/** Every operation in the app's own GET /openapi.json. */
export async function apiOperations(app: FastifyInstance): Promise<ApiOperation[]> {
  const response = await app.inject({ url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
  const document = JSON.parse(response.body) as RawDocument;
  const operations: ApiOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const parameters = raw.parameters ?? [];
      const named = (where: string) => parameters.filter((p) => p.in === where).map((p) => p.name);
      operations.push({
        label: `${method.toUpperCase()} ${path}`,
        operationId: raw.operationId ?? `${method} ${path}`,
        method: method.toUpperCase() as ApiOperation['method'],
        path,
        isPublic: (raw.security ?? []).some((requirement) => Object.keys(requirement).length === 0),
        pathParams: named('path'),
        queryParams: named('query'),
        headerParams: named('header'),
        body: resolve(document, raw.requestBody?.content?.['application/json']?.schema),
        responses: Object.keys(raw.responses ?? {}),
      });
    }
  }
  return operations;
}

/** Fills `{name}` placeholders; values are inserted as given (callers encode what they mean to). */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} in ${template}`);
    return value;
  });
}

/**
 * A fingerprint of every table a request could write: row counts, and the sum of versions and
 * latest change where rows are edited in place, so an update or a revocation shows as well as an
 * insert or a delete.
 */
export async function tableState(db: Database): Promise<Record<string, string>> {
  const result = (await db.execute(sql`select
    (select count(*) from articles)::text as articles,
    (select coalesce(sum(version), 0) from articles)::text as article_versions,
    (select count(*) from articles where deleted_at is not null)::text as deleted_articles,
    (select coalesce(max(updated_at)::text, '') from articles) as articles_updated,
    (select count(*) from article_revisions)::text as article_revisions,
    (select count(*) from article_tags)::text as article_tags,
    (select count(*) from article_related)::text as article_related,
    (select count(*) from article_slug_redirects)::text as article_slug_redirects,
    (select count(*) from tags)::text as tags,
    (select coalesce(sum(version), 0) from tags)::text as tag_versions,
    (select count(*) from timeline_entries)::text as timeline_entries,
    (select coalesce(sum(version), 0) from timeline_entries)::text as timeline_versions,
    (select count(*) from api_keys)::text as api_keys,
    (select count(*) from api_keys where revoked_at is not null)::text as revoked_keys`)) as unknown as {
    rows: Record<string, string>[];
  };
  const row = result.rows[0];
  if (!row) throw new Error('the state query returned no row');
  return row;
}

export function stateDifference(before: Record<string, string>, after: Record<string, string>): string | null {
  const changed = Object.keys(before).filter((key) => before[key] !== after[key]);
  return changed.length === 0 ? null : changed.map((key) => `${key}: ${before[key]} -> ${after[key]}`).join(', ');
}

export const PROBLEM_CONTENT_TYPE = /^application\/problem\+json(;|$)/;

/** Why a response is not a well-formed problem for its own status, or null when it is. */
export function problemShapeError(response: LightMyRequestResponse): string | null {
  const contentType = String(response.headers['content-type'] ?? '');
  if (!PROBLEM_CONTENT_TYPE.test(contentType)) return `content-type is "${contentType}", not application/problem+json`;
  let body: { status?: unknown; code?: unknown; type?: unknown; title?: unknown };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    return `the body is not JSON: ${response.body.slice(0, 200)}`;
  }
  if (body.status !== response.statusCode) return `body.status ${String(body.status)} differs from HTTP ${response.statusCode}`;
  if (typeof body.code !== 'string' || !/^[A-Z_]+$/.test(body.code)) return `no code: ${response.body.slice(0, 200)}`;
  if (typeof body.type !== 'string' || typeof body.title !== 'string') return `no type or title: ${response.body.slice(0, 200)}`;
  return null;
}
