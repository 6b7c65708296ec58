import fc from 'fast-check';
import { versionsInIfMatch } from '../../src/http/caching.js';
import { encodeCursor } from '../../src/http/cursor.js';
import type { ApiOperation, JsonSchema } from './api-surface.js';

/**
 * Generators of malformed requests for the fuzz test: bodies, query strings, path parameters and
 * headers, shaped by each operation's OpenAPI entry. Where a generator promises "certainly
 * invalid", it is invalid for every field Lede has, so a write carrying it must be refused.
 */

export interface FuzzContext {
  /** A body the operation would accept. */
  validBody(op: ApiOperation): Record<string, unknown>;
  /** The version of the resource the operation's valid path names, or null. */
  currentVersion(op: ApiOperation): number | null;
  /** A working key, to make near misses from. */
  workingKey: string;
  /** The Authorization header of a revoked key. */
  revokedAuthorization: string;
  bodyLimit: number;
}

function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return 'lone%ED%A0%80surrogate';
  }
}

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', 'b\udc00a', '\uFEFF', '\u202E', '../..', '%00', "'; drop table articles; --", '<script>x</script>', '{{7*7}}', 'client/title.list_title'),
);

/** Strings whose size is junk: empty, blank, or long. */
const sizedJunk = fc.oneof(
  fc.constantFrom('', ' ', '\t\n '),
  fc.integer({ min: 301, max: 20_000 }).chain((length) => fc.constantFrom('x', 'я', '\u0000').map((unit) => unit.repeat(length))),
);

/** Nested arrays and objects of junk, shallow enough for every layer to walk. */
const nestedJunk = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 3 }),
  ),
})).node;

/** Always invalid for any field of ours: an object with a key no schema has, or nested arrays. */
const wrongShapeValue = fc.oneof(
  nestedJunk.map((value) => ({ '¤not-a-field': value })),
  nestedJunk.map((value) => [[value]]),
);

function wrongTypeValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const types = new Set([schema?.type, ...(schema?.anyOf ?? []).map((option) => option.type)].flat().filter(Boolean));
  const choices: fc.Arbitrary<unknown>[] = [wrongShapeValue];
  if (types.size > 0 && !types.has('string')) choices.push(fc.string({ maxLength: 10 }));
  if (types.size > 0 && !types.has('number') && !types.has('integer')) choices.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
  if (types.size > 0 && !types.has('boolean')) choices.push(fc.boolean());
  if (types.size > 0 && !types.has('array')) choices.push(fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 1, maxLength: 3 }));
  return fc.oneof(...choices);
}

const FIELD_NAMES_THAT_ARE_NOT_WRITABLE = ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'articleCount', 'status', 'secretHash', 'key', 'prefix', 'revokedAt', '__proto__', 'constructor', 'prototype', '\u0000', ''];

/** Valid body text with an unknown key added (written by hand, so `__proto__` is a real key). */
function withExtraKey(base: Record<string, unknown>, key: string, value: unknown): string {
  const entries = [...Object.entries(base), [key, value] as const].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${entries.join(',')}}`;
}

/** A JSON object body that certainly fails validation: at least one field is broken. */
function invalidObjectBody(op: ApiOperation, ctx: FuzzContext): fc.Arbitrary<string> {
  const base = ctx.validBody(op);
  const properties = op.body?.properties ?? {};
  const names = Object.keys(properties);
  const unknownKey = fc.oneof(
    fc.constantFrom(...FIELD_NAMES_THAT_ARE_NOT_WRITABLE),
    fc.string({ maxLength: 20 }).filter((key) => !names.includes(key)),
  );
  const breakers: fc.Arbitrary<string>[] = [
    fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => withExtraKey(base, key, value)),
  ];
  if (names.length > 0) {
    const field = fc.constantFrom(...names);
    breakers.push(
      field.chain((name) => wrongTypeValue(properties[name]).map((value) => JSON.stringify({ ...base, [name]: value }))),
      // A NUL or a lone surrogate anywhere is refused before validation; PostgreSQL could not store either.
      fc
        .tuple(field, fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udfff'))
        .map(([name, text, bad]) => JSON.stringify({ ...base, [name]: `${text}${bad}${text}` })),
    );
    const bounded = names.filter((name) => (properties[name]?.minLength ?? 0) >= 1 || properties[name]?.maxLength !== undefined);
    if (bounded.length > 0) {
      breakers.push(
        fc.tuple(fc.constantFrom(...bounded), sizedJunk).map(([name, text]) => {
          const schema = properties[name];
          const max = schema?.maxLength ?? Infinity;
          // Blank only where a value is required; long only past the field's own maximum.
          const broken = text.trim() === '' ? ((schema?.minLength ?? 0) >= 1 ? text : 'x'.repeat(Math.min(max + 1, 20_000))) : text.length > max ? text : text.padEnd(max + 1, 'x');
          return JSON.stringify({ ...base, [name]: broken });
        }),
      );
    }
  }
  return fc.oneof(...breakers);
}

/** Text that is not JSON at all. */
function notJsonText(op: ApiOperation, ctx: FuzzContext): fc.Arbitrary<string> {
  const valid = JSON.stringify(ctx.validBody(op));
  return fc.oneof(
    fc.integer({ min: 1, max: Math.max(1, valid.length - 1) }).map((cut) => valid.slice(0, cut)),
    fc.constantFrom(',', '}', 'x', ' 1', '"', ']').map((tail) => valid + tail),
    fc.constantFrom(
      "{'name':'single quotes'}",
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a":undefined}',
      '{"a":1,}',
      '{/* comment */}',
      '{"title":"raw\u0000nul"}',
      '{"title":"raw\nnewline"}',
      '{"a":01}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '\u0000',
      '   ',
      '\uFEFF\uFEFF{}',
      '{"a":1}{"b":2}',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }),
  );
}

/** JSON that parses, but is no object (and not `null`, which an optional body may be). */
const notAnObject = fc
  .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 20 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }))
  .map((value) => JSON.stringify(value));

/** Content types no JSON route accepts. */
const NOT_JSON_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'image/png',
  'application/jsonx',
  'json',
  'garbage',
  ';;;',
  'application/',
  '/json',
];

export interface BodyJunk {
  payload: string | Buffer;
  contentType: string | null;
}

export function bodyJunk(op: ApiOperation, ctx: FuzzContext): fc.Arbitrary<BodyJunk> {
  const asJson = (payload: string): BodyJunk => ({ payload, contentType: 'application/json' });
  const oversize: fc.Arbitrary<BodyJunk> = fc
    .integer({ min: ctx.bodyLimit + 1, max: ctx.bodyLimit + 4096 })
    .map((size) => asJson(`{"title":"${'x'.repeat(size)}"}`));
  const notJson = notJsonText(op, ctx).map(asJson);
  const wrongType = fc.tuple(fc.constantFrom(...NOT_JSON_TYPES), fc.constantFrom(JSON.stringify(ctx.validBody(op)), 'name=x&role=admin', '<x/>'))
    .map(([contentType, payload]): BodyJunk => ({ payload, contentType }));
  if (!op.body) {
    // An operation without a body: only what the framework refuses before the handler runs.
    return fc.oneof({ weight: 4, arbitrary: notJson }, { weight: 4, arbitrary: wrongType }, { weight: 1, arbitrary: oversize });
  }
  return fc.oneof(
    { weight: 6, arbitrary: invalidObjectBody(op, ctx).map(asJson) },
    { weight: 3, arbitrary: notJson },
    { weight: 2, arbitrary: notAnObject.map(asJson) },
    { weight: 2, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(asJson('')) },
    { weight: 1, arbitrary: oversize },
  );
}

function cursorJunk(): fc.Arbitrary<string> {
  const kinds = fc.constantFrom('articles', 'tags', 'keys', 'timeline', 'other');
  const junkValues = fc.array(
    fc.oneof(
      fc.constantFrom('0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '2024-02-30T00:00:00Z', 'not-a-date', '1e400', '9'.repeat(300), '\u0000', '00000000-0000-4000-8000-000000000000', 'not-a-uuid'),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    { maxLength: 4 },
  );
  return fc.oneof(
    fc.tuple(kinds, junkValues).map(([kind, values]) => encodeCursor(kind, values as (string | number)[])),
    fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')),
    fc.string({ unit: 'binary', maxLength: 60 }).map(encode),
    fc.constantFrom('', '=', '====', 'abc=', 'YQ', '-_-_', 'a'.repeat(1025), 'eyJ9', encodeCursor('articles', []), '%2B%2F'),
  );
}

const LIMIT_JUNK = ['0', '-1', '101', '1000000000000', '1.5', 'abc', '', ' ', 'NaN', 'Infinity', '-0', '0x10', '1e3', '%00', '1%00', '99999999999999999999999', '[]', 'null'];

export function queryJunk(op: ApiOperation): fc.Arbitrary<string> {
  const known = op.queryParams.length > 0 ? fc.constantFrom(...op.queryParams) : fc.constant('limit');
  const pair = fc.oneof(
    fc.tuple(known, anyText).map(([name, value]) => `${name}=${encode(value)}`),
    fc.tuple(fc.string({ maxLength: 12 }).filter((name) => !op.queryParams.includes(name)), anyText).map(([name, value]) => `${encode(name)}=${encode(value)}`),
    fc.constantFrom(...LIMIT_JUNK).map((value) => `limit=${value}`),
    cursorJunk().map((value) => `cursor=${value}`),
    fc.constantFrom(
      '%',
      '%zz',
      '%00',
      'q=%C0%80',
      'q=%FF%FE',
      'q=%E2%82',
      '&&&',
      '=',
      '==x',
      '+++',
      ';',
      'tag[]=x',
      'tag[0]=x',
      '__proto__=x',
      '__proto__[x]=1',
      'constructor[prototype][x]=1',
      'limit=1&limit=2',
      'tag=a&tag=b&tag=c&tag=d&tag=e&tag=f&tag=g&tag=h&tag=i&tag=j&tag=k',
      'tz=Not/AZone',
      'tz=%2E%2E%2F%2E%2E',
      'groupBy=week',
      'format=xml',
      'status=deleted',
      'locale=x-private',
      'locale=' + 'a'.repeat(40),
      'publishedAfter=0000-01-01T00:00:00Z',
      'before=9999-12-31T23:59:59.999-23:59',
      'after=2024-11-22',
    ),
  );
  return fc.array(pair, { minLength: 1, maxLength: 4 }).map((pairs) => pairs.join('&'));
}

export function pathJunk(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uuid(),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encode),
    fc.integer({ min: 513, max: 3000 }).map((length) => 'a'.repeat(length)),
    fc.integer({ min: 201, max: 512 }).map((length) => 'b'.repeat(length)),
    fc.constantFrom(
      '%',
      '%zz',
      '%00',
      'a%00b',
      '%C0%AE%C0%AE',
      '%E0%A4%A',
      '%FF',
      '%2F',
      '%2E%2E',
      '.',
      'NOT-A-UUID',
      '0',
      '-1',
      '1e3',
      '{00000000-0000-4000-8000-000000000000}',
      '00000000000040008000000000000000',
      '00000000-0000-4000-8000-00000000000g',
      ' 1',
      '%20',
      'rss',
      'json%00',
      '%E2%80%AE',
      'x;y=1',
    ),
  );
}

/** Header values a real client could send (no CR, LF or NUL), from plain to absurd. */
const headerText = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((text) => text.replace(/[\r\n]/g, ' ').replaceAll('\u0000', ' ')),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 1000, max: 8000 }).map((length) => 'z'.repeat(length)),
  fc.string({ unit: fc.constantFrom('é', 'ÿ', '\u0080', '\u00a0', '\t'), maxLength: 20 }),
);

function authorizationJunk(ctx: FuzzContext): fc.Arbitrary<string> {
  const key = ctx.workingKey;
  const [, prefix] = /^lede_([a-z0-9]+)_/.exec(key) ?? [];
  return fc.oneof(
    headerText,
    fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Token ${key}`,
      key,
      `Bearer ${key}x`,
      `Bearer ${key.slice(0, -1)}`,
      `Bearer ${key} extra`,
      `Bearer ${key},${key}`,
      `Bearer lede_${prefix}_${'A'.repeat(43)}`,
      `Bearer lede_${prefix}`,
      `Bearer ${key.toUpperCase()}`,
      ctx.revokedAuthorization,
      `Bearer ${'lede_'.repeat(500)}`,
    ),
    headerText.map((text) => `Bearer ${text}`).filter((value) => !value.includes(key)),
  );
}

function ifMatchJunk(op: ApiOperation, ctx: FuzzContext): fc.Arbitrary<string> {
  const version = ctx.currentVersion(op);
  return fc
    .oneof(
      headerText,
      fc.constantFrom('*', '', ' ', '"v999999"', 'W/"v999999"', '"v0"', '"v-1"', '"v1', 'v1', '"v99999999999"', '"', '""', ', ,', '*, "v999999"', '"v1.5"'),
    )
    .filter((value) => version === null || !versionsInIfMatch(value).includes(version));
}

export type HeaderPart = 'authorization' | 'if-match' | 'content-type' | 'other';
export interface HeaderJunk {
  part: HeaderPart;
  headers: Record<string, string>;
}

export function headerJunk(op: ApiOperation, ctx: FuzzContext): fc.Arbitrary<HeaderJunk> {
  const other = fc.oneof(
    fc.tuple(fc.constantFrom('if-none-match', 'accept', 'x-request-id', 'accept-encoding', 'accept-language', 'origin', 'x-forwarded-for', 'range', 'if-modified-since', 'cookie'), headerText)
      .map(([name, value]) => ({ [name]: value })),
    fc.constantFrom<Record<string, string>>(
      { 'if-none-match': '*' },
      { 'if-none-match': 'W/"v1", *' },
      { 'x-request-id': 'a'.repeat(500) },
      { 'x-request-id': '{"forged":true}' },
      { 'x-http-method-override': 'DELETE' },
    ),
  );
  return fc.oneof(
    authorizationJunk(ctx).map((value): HeaderJunk => ({ part: 'authorization', headers: { authorization: value } })),
    ifMatchJunk(op, ctx).map((value): HeaderJunk => ({ part: 'if-match', headers: { 'if-match': value } })),
    fc.constantFrom(...NOT_JSON_TYPES).map((value): HeaderJunk => ({ part: 'content-type', headers: { 'content-type': value } })),
    other.map((headers): HeaderJunk => ({ part: 'other', headers })),
  );
}
