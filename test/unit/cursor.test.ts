import t, { type Test } from 'tap';
import { z } from 'zod';
import { AppError } from '../../src/http/app-error.js';
import { decodeCursor, encodeCursor } from '../../src/http/cursor.js';

const Values = z.tuple([z.iso.datetime(), z.uuid()]);
const AT = '2024-11-22T09:15:00.000Z';
const ID = '0b6f4f0e-6a39-4c43-9a43-5b0f3a3e9d11';

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Asserts that decoding throws the one cursor error clients can branch on. */
function rejects(t: Test, raw: string, message: string, schema: z.ZodType = Values, kind = 'tags'): void {
  try {
    decodeCursor(kind, raw, schema);
    t.fail(`${message}: accepted`);
  } catch (error) {
    t.ok(error instanceof AppError, `${message}: an AppError`);
    t.match(error, { code: 'INVALID_CURSOR', status: 400, errors: [{ path: 'query.cursor' }] }, message);
  }
}

t.test('a cursor decodes to the values it was made from', async (t) => {
  const cursor = encodeCursor('tags', [AT, ID]);
  t.match(cursor, /^[A-Za-z0-9_-]+$/, 'base64url, safe in a query string unescaped');
  t.same(decodeCursor('tags', cursor, Values), [AT, ID]);

  const withNumbers = encodeCursor('timeline', ['Київ', 42, 0]);
  t.same(decodeCursor('timeline', withNumbers, z.tuple([z.string(), z.number(), z.number()])), ['Київ', 42, 0]);
});

t.test('a cursor made by another list is rejected', async (t) => {
  rejects(t, encodeCursor('keys', [AT, ID]), 'kind keys sent to tags');
  rejects(t, encodeCursor('Tags', [AT, ID]), 'kind differs only in case');
});

t.test('garbage is rejected', async (t) => {
  rejects(t, 'not-a-cursor', 'base64url characters that are not JSON');
  rejects(t, 'AAAA', 'decodes to NUL bytes');
  rejects(t, base64url('{"kind":"tags"}'), 'JSON but not an array');
  rejects(t, base64url('"tags"'), 'JSON string');
  rejects(t, base64url('[]'), 'empty array');
  rejects(t, base64url('null'), 'null');
  rejects(t, '', 'empty string');
});

t.test('characters outside base64url are rejected', async (t) => {
  const valid = encodeCursor('tags', [AT, ID]);
  rejects(t, Buffer.from(JSON.stringify(['tags', AT, ID])).toString('base64'), 'standard base64 with + / =');
  rejects(t, `${valid}=`, 'padding');
  rejects(t, `${valid} `, 'trailing space');
  rejects(t, `${valid.slice(0, 10)}.${valid.slice(10)}`, 'a dot inside');
  rejects(t, '["tags"]', 'raw JSON');
});

t.test('an oversized cursor is rejected before it is decoded', async (t) => {
  const huge = encodeCursor('tags', [AT, 'x'.repeat(2000)]);
  t.ok(huge.length > 1024);
  rejects(t, huge, 'over 1024 characters', z.tuple([z.iso.datetime(), z.string()]));
  rejects(t, 'A'.repeat(1025), '1025 characters');
});

t.test('values of the wrong type or count are rejected', async (t) => {
  rejects(t, encodeCursor('tags', [12345, ID]), 'number where a datetime belongs');
  rejects(t, encodeCursor('tags', ['yesterday', ID]), 'string that is not a datetime');
  rejects(t, encodeCursor('tags', [AT, 'not-a-uuid']), 'string that is not a uuid');
  rejects(t, encodeCursor('tags', [AT]), 'too few values');
  rejects(t, encodeCursor('tags', [AT, ID, 'extra']), 'too many values');
  rejects(t, base64url(JSON.stringify(['tags', AT, null])), 'null value');
});
