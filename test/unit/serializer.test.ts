import t from 'tap';
import { z } from 'zod';
import { compiledSerializerCompiler } from '../../src/http/serializer.js';

const Page = z.strictObject({
  data: z.array(z.strictObject({ id: z.string(), title: z.string(), label: z.enum(['breaking', 'opinion']).nullable() })),
  nextCursor: z.string().nullable(),
});
const compile = (validate: boolean) =>
  compiledSerializerCompiler({ validate })({ schema: Page, method: 'GET', url: '/page', httpStatus: '200' } as never) as (data: unknown) => string;

t.test('writes the same JSON as JSON.stringify for a conforming value', async (t) => {
  const value = { data: [{ id: 'a', title: 'Quote "inside" \u2028 and ü', label: null }], nextCursor: 'abc' };
  t.same(JSON.parse(compile(false)(value)), value);
});

t.test('writes only the declared properties', async (t) => {
  const value = { data: [{ id: 'a', title: 't', label: 'opinion', internal: 'secret' }], nextCursor: null, debug: true };
  t.same(JSON.parse(compile(false)(value)), { data: [{ id: 'a', title: 't', label: 'opinion' }], nextCursor: null });
});

t.test('with validation, a value off its schema fails instead of being sent', async (t) => {
  const wrong = { data: [{ id: 'a', title: 7, label: null }], nextCursor: null };
  t.throws(() => compile(true)(wrong));
});

t.test('a union answer is written by the branch its distinguishing property names', async (t) => {
  const Days = z.strictObject({ days: z.array(z.strictObject({ date: z.string() })), nextCursor: z.string().nullable() }).meta({ id: 'UnionTestDays' });
  const Union = z.union([Page.meta({ id: 'UnionTestPage' }), Days]);
  const serialize = compiledSerializerCompiler({ validate: false })({ schema: Union, method: 'GET', url: '/u', httpStatus: '200' } as never) as (
    data: unknown,
  ) => string;
  const page = { data: [{ id: 'a', title: 't', label: null, extra: 1 }], nextCursor: null };
  const days = { days: [{ date: '2024-11-22', extra: 1 }], nextCursor: 'c' };
  t.same(JSON.parse(serialize(page)), { data: [{ id: 'a', title: 't', label: null }], nextCursor: null });
  t.same(JSON.parse(serialize(days)), { days: [{ date: '2024-11-22' }], nextCursor: 'c' });
});
