/**
 * GET endpoints ignore query parameters they do not know (utm_*, cache busters): their query
 * schemas strip them, and what keys a response (the response cache) or guards the database (the
 * input guard) looks only at the ones the route declares.
 */

const NONE: ReadonlySet<string> = new Set();

/** Names per querystring schema: one entry per route's schema, so bounded by the routes. */
const namesBySchema = new WeakMap<object, ReadonlySet<string>>();

/** The query parameter names a route's querystring schema (a Zod object) declares; none without one. */
export function knownQueryParams(schema: unknown): ReadonlySet<string> {
  if (schema === null || typeof schema !== 'object') return NONE;
  let names = namesBySchema.get(schema);
  if (!names) {
    const shape = (schema as { shape?: unknown }).shape;
    names = shape !== null && typeof shape === 'object' ? new Set(Object.keys(shape)) : NONE;
    namesBySchema.set(schema, names);
  }
  return names;
}

function decodedName(pair: string): string {
  const raw = pair.split('=', 1)[0]!.replaceAll('+', ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * `url` without the query parameters not in `names`, the others kept as sent and in their order:
 * `/v1/articles?utm_source=x` and `/v1/articles` are the same URL to the route.
 */
export function withKnownParams(url: string, names: ReadonlySet<string>): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const kept = url
    .slice(at + 1)
    .split('&')
    .filter((pair) => pair !== '' && names.has(decodedName(pair)));
  return kept.length === 0 ? url.slice(0, at) : `${url.slice(0, at)}?${kept.join('&')}`;
}

/** The parsed query with only the parameters in `names`. */
export function knownQuery(query: unknown, names: ReadonlySet<string>): Record<string, unknown> {
  if (query === null || typeof query !== 'object' || names.size === 0) return {};
  return Object.fromEntries(Object.entries(query).filter(([name]) => names.has(name)));
}
