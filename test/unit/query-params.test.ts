import t from 'tap';
import { z } from 'zod';
import { knownQuery, knownQueryParams, withKnownParams } from '../../src/http/query-params.js';

const names = knownQueryParams(z.object({ q: z.string().optional(), tag: z.array(z.string()).optional(), limit: z.number().optional() }));

t.test('the names a querystring schema declares', async (t) => {
  t.same([...names].sort(), ['limit', 'q', 'tag']);
  t.equal(knownQueryParams(undefined).size, 0, 'no schema: none');
  const schema = z.object({ a: z.string() });
  t.equal(knownQueryParams(schema), knownQueryParams(schema), 'computed once per schema');
});

t.test('unknown parameters leave the URL; known ones stay as sent, in order', async (t) => {
  t.equal(withKnownParams('/v1/articles', names), '/v1/articles');
  t.equal(withKnownParams('/v1/articles?', names), '/v1/articles');
  t.equal(withKnownParams('/v1/articles?utm_source=x&_=1', names), '/v1/articles');
  t.equal(withKnownParams('/v1/articles?tag=a&utm_source=x&limit=2&tag=b', names), '/v1/articles?tag=a&limit=2&tag=b');
  t.equal(withKnownParams('/v1/articles?q=kyiv+news&&fbclid=1', names), '/v1/articles?q=kyiv+news');
  t.equal(withKnownParams('/v1/articles?%71=x', names), '/v1/articles?%71=x', 'an encoded known name is known');
  t.equal(withKnownParams('/v1/articles?%zz=1&q=a', names), '/v1/articles?q=a', 'a malformed name is unknown');
  t.equal(withKnownParams('/v1/timeline/1?utm_source=x', knownQueryParams(undefined)), '/v1/timeline/1');
});

t.test('the parsed query keeps only known parameters', async (t) => {
  t.same(knownQuery({ q: 'a', utm_source: 'x' }, names), { q: 'a' });
  t.same(knownQuery(undefined, names), {});
});
