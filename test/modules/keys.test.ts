import t from 'tap';
import { sql } from 'drizzle-orm';
import { encodeCursor } from '../../src/http/cursor.js';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { buildTestApp, json } from '../helper.js';

// One database for the file; each test makes its own keys.
const { app, database, authAs } = await buildTestApp(t);
const admin = await authAs('admin', 'file admin');

const KEY_SHAPE = /^lede_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = '0b9f3f8e-3c1b-4f6e-9a51-2f0c6d1e7a42';

interface WireKey {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  key?: string;
}
type KeyPage = { data: WireKey[]; nextCursor: string | null };

async function createKey(role: string, name: string): Promise<WireKey & { key: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/keys', headers: admin, payload: { role, name } });
  if (response.statusCode !== 201) throw new Error(`POST /v1/keys answered ${response.statusCode}: ${response.body}`);
  return json(response);
}

/** Every key name in a JSON document, however deep. */
function propertyNames(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => propertyNames(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      found.add(key);
      propertyNames(item, found);
    }
  }
  return found;
}

async function listAll(headers: { authorization: string }, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `/v1/keys?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await app.inject({ url, headers });
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
    const page = json<KeyPage>(response);
    if (page.data.length > limit) throw new Error(`page of ${page.data.length} for limit ${limit}`);
    ids.push(...page.data.map((key) => key.id));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { ids, pages };
}

t.test('only admins manage keys', async (t) => {
  const editor = await authAs('editor');
  const reader = await authAs('reader');
  const target = await createKey('reader', 'target');
  for (const [role, headers] of [['editor', editor], ['reader', reader]] as const) {
    const create = await app.inject({ method: 'POST', url: '/v1/keys', headers, payload: { role: 'admin', name: `by ${role}` } });
    t.equal(create.statusCode, 403, `${role} POST`);
    t.equal(json(create).code, 'FORBIDDEN');
    const list = await app.inject({ url: '/v1/keys', headers });
    t.equal(list.statusCode, 403, `${role} GET`);
    t.equal(json(list).code, 'FORBIDDEN');
    const revoke = await app.inject({ method: 'DELETE', url: `/v1/keys/${target.id}`, headers });
    t.equal(revoke.statusCode, 403, `${role} DELETE`);
    t.equal(json(revoke).code, 'FORBIDDEN');
  }
  const anonymous = await app.inject({ method: 'POST', url: '/v1/keys', payload: { role: 'admin', name: 'anonymous' } });
  t.equal(anonymous.statusCode, 401);
  t.equal(json(anonymous).code, 'AUTH_REQUIRED');

  const all = await listAll(admin, 100);
  t.ok(all.ids.includes(target.id));
  const still = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=100', headers: admin })).data.find((key) => key.id === target.id);
  t.equal(still?.revokedAt, null, 'the forbidden DELETE revoked nothing');
  const names = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=100', headers: admin })).data.map((key) => key.name);
  t.notOk(names.some((name) => name.startsWith('by ') || name === 'anonymous'), 'the forbidden POSTs created nothing');
});

t.test('POST answers 201 with the key, once; GET never shows it', async (t) => {
  const response = await app.inject({ method: 'POST', url: '/v1/keys', headers: admin, payload: { role: 'editor', name: '  Homepage frontend  ' } });
  t.equal(response.statusCode, 201);
  t.equal(response.headers['cache-control'], 'no-store', 'the one answer holding the key is not cached');
  const created = json<WireKey & { key: string }>(response);
  t.equal(response.headers.location, `/v1/keys/${created.id}`, 'Location names the new key, as other creates do');
  const read = await app.inject({ url: String(response.headers.location), headers: admin });
  t.equal(read.statusCode, 200, 'and answers GET');
  t.same(json(read), { id: created.id, name: 'Homepage frontend', role: 'editor', prefix: created.prefix, createdAt: created.createdAt, revokedAt: null });
  t.notOk(read.body.includes(created.key.slice(18)), 'never the key again');
  t.match(read.headers['cache-control'], /^private/);
  t.equal((await app.inject({ url: `/v1/keys/${UNKNOWN_ID}`, headers: admin })).statusCode, 404);
  t.equal((await app.inject({ url: `/v1/keys/${created.id}`, headers: { authorization: `Bearer ${created.key}` } })).statusCode, 403, 'admins only');
  t.match(created.key, KEY_SHAPE);
  t.equal(created.role, 'editor');
  t.equal(created.name, 'Homepage frontend', 'the name is trimmed');
  t.equal(created.revokedAt, null);
  t.match(created.createdAt, ISO_TIME);
  t.equal(created.prefix, created.key.slice(0, 'lede_'.length + 12), 'prefix is the start of the key');
  t.ok(created.prefix.length < created.key.length / 2, 'the prefix is a short part of the key');

  const secret = KEY_SHAPE.exec(created.key)?.[2] ?? '';
  t.equal(secret.length, 43);
  const list = await app.inject({ url: '/v1/keys?limit=100', headers: admin });
  t.equal(list.statusCode, 200);
  t.match(list.headers['cache-control'], /^private/);
  const listed = json<KeyPage>(list).data.find((key) => key.id === created.id);
  t.ok(listed, 'the new key is listed');
  t.same(listed, { id: created.id, name: 'Homepage frontend', role: 'editor', prefix: created.prefix, createdAt: created.createdAt, revokedAt: null });
  t.notOk(propertyNames(json(list)).has('key'), 'no `key` field anywhere in the list');
  t.notOk(list.body.includes(secret), 'the secret appears nowhere in the list');

  const invalid = [
    { role: 'owner', name: 'x' },
    { role: 'editor' },
    { role: 'editor', name: '   ' },
    { role: 'editor', name: 'x'.repeat(101) },
    { role: 'editor', name: 'chosen', key: created.key },
    { role: 'editor', name: 'chosen', id: UNKNOWN_ID },
    { role: 'editor', name: 'chosen', revokedAt: null },
  ];
  for (const payload of invalid) {
    const refused = await app.inject({ method: 'POST', url: '/v1/keys', headers: admin, payload });
    t.equal(refused.statusCode, 400, JSON.stringify(payload).slice(0, 60));
    t.equal(json(refused).code, 'VALIDATION_FAILED');
  }
});

t.test('a new key works for its role and no higher', async (t) => {
  const editor = await createKey('editor', 'fresh editor');
  const headers = { authorization: `Bearer ${editor.key}` };
  const write = await app.inject({ method: 'POST', url: '/v1/tags', headers, payload: { name: 'By fresh editor', locale: 'ro' } });
  t.equal(write.statusCode, 201);
  const keys = await app.inject({ url: '/v1/keys', headers });
  t.equal(keys.statusCode, 403);
  t.equal(json(keys).code, 'FORBIDDEN');

  const reader = await createKey('reader', 'fresh reader');
  const readerWrite = await app.inject({
    method: 'POST',
    url: '/v1/tags',
    headers: { authorization: `Bearer ${reader.key}` },
    payload: { name: 'By fresh reader', locale: 'ro' },
  });
  t.equal(readerWrite.statusCode, 403);

  const newAdmin = await createKey('admin', 'fresh admin');
  const adminList = await app.inject({ url: '/v1/keys', headers: { authorization: `Bearer ${newAdmin.key}` } });
  t.equal(adminList.statusCode, 200);
});

t.test('DELETE revokes: 204, then the key is 401; a repeat is 404; the record shows when', async (t) => {
  const victim = await createKey('editor', 'to revoke');
  const headers = { authorization: `Bearer ${victim.key}` };
  t.equal((await app.inject({ method: 'POST', url: '/v1/tags', headers, payload: { name: 'Pre', locale: 'bg' } })).statusCode, 201);

  const revoked = await app.inject({ method: 'DELETE', url: `/v1/keys/${victim.id}`, headers: admin });
  t.equal(revoked.statusCode, 204, 'like every other DELETE');
  t.equal(revoked.body, '', 'no body');

  const refused = await app.inject({ method: 'POST', url: '/v1/tags', headers, payload: { name: 'Post', locale: 'bg' } });
  t.equal(refused.statusCode, 401);
  t.equal(json(refused).code, 'INVALID_API_KEY');

  const again = await app.inject({ method: 'DELETE', url: `/v1/keys/${victim.id}`, headers: admin });
  t.equal(again.statusCode, 404, 'a repeat finds no key to revoke');
  t.equal(json(again).code, 'KEY_NOT_FOUND');
  t.equal((await app.inject({ url: '/v1/tags', headers })).statusCode, 401, 'still revoked');

  // The record stays, for the audit: who had which key, and when it stopped.
  const record = json<WireKey>(await app.inject({ url: `/v1/keys/${victim.id}`, headers: admin }));
  t.match(record.revokedAt, ISO_TIME);
  t.ok(Date.parse(String(record.revokedAt)) >= Date.parse(victim.createdAt), 'revoked after it was made');
  t.notOk('key' in record, 'the key is not shown again');
  const listed = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=100', headers: admin })).data.find((key) => key.id === victim.id);
  t.equal(listed?.revokedAt, record.revokedAt, 'the list shows it revoked');
});

t.test('a key revoked elsewhere (another process, the CLI) stops working here', async (t) => {
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const other = await buildApp(configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false' }), { database: shared, logger: pino({ level: 'silent' }) });
  t.teardown(() => other.close());
  const stillRefused = async (headers: Record<string, string>) => {
    // The announcement travels by NOTIFY when the revocation commits; allow it a moment.
    const deadline = Date.now() + 2_000;
    let status: number;
    do {
      status = (await app.inject({ url: '/v1/tags', headers })).statusCode;
      if (status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    } while (Date.now() < deadline);
    return status;
  };

  const first = await createKey('reader', 'revoked by another process');
  const firstHeaders = { authorization: `Bearer ${first.key}` };
  t.equal((await app.inject({ url: '/v1/tags', headers: firstHeaders })).statusCode, 200, 'resolved, and now kept here');
  t.equal((await other.inject({ method: 'DELETE', url: `/v1/keys/${first.id}`, headers: admin })).statusCode, 204);
  t.equal(await stillRefused(firstHeaders), 401);

  const second = await createKey('reader', 'revoked by the CLI');
  const secondHeaders = { authorization: `Bearer ${second.key}` };
  t.equal((await app.inject({ url: '/v1/tags', headers: secondHeaders })).statusCode, 200);
  await keysService(database.db).revoke(second.id);
  t.equal(await stillRefused(secondHeaders), 401);
});

t.test('DELETE of an unknown or malformed id', async (t) => {
  const unknown = await app.inject({ method: 'DELETE', url: `/v1/keys/${UNKNOWN_ID}`, headers: admin });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(json(unknown).code, 'KEY_NOT_FOUND');
  const malformed = await app.inject({ method: 'DELETE', url: '/v1/keys/not-a-uuid', headers: admin });
  t.equal(malformed.statusCode, 400);
  t.equal(json(malformed).code, 'VALIDATION_FAILED');
});

t.test('the list pages by cursor, newest first, without repeats', async (t) => {
  const made: string[] = [];
  for (let i = 0; i < 5; i += 1) made.push((await createKey('reader', `paged ${i}`)).id);

  const everything = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=100', headers: admin }));
  t.equal(everything.nextCursor, null, 'one page holds them all');
  t.same(new Set(everything.data.slice(0, 5).map((key) => key.id)), new Set(made), 'the newest keys come first');
  const times = everything.data.map((key) => Date.parse(key.createdAt));
  t.same(times, [...times].sort((a, b) => b - a), 'ordered by createdAt descending');

  const firstPage = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=2', headers: admin }));
  t.equal(firstPage.data.length, 2);
  t.type(firstPage.nextCursor, 'string');
  t.same(firstPage.data, everything.data.slice(0, 2), 'limit cuts the same list');

  for (const limit of [1, 2, 3]) {
    const { ids, pages } = await listAll(admin, limit);
    t.same(ids, everything.data.map((key) => key.id), `limit=${limit} walks the same list`);
    t.equal(new Set(ids).size, ids.length, 'no repeats');
    t.equal(pages, Math.ceil(ids.length / limit));
  }

  // A key made while paging sorts before the cursor and must not shift later pages.
  const page1 = json<KeyPage>(await app.inject({ url: '/v1/keys?limit=3', headers: admin }));
  await createKey('reader', 'made while paging');
  const page2 = json<KeyPage>(await app.inject({ url: `/v1/keys?limit=3&cursor=${page1.nextCursor}`, headers: admin }));
  t.same(page2.data.map((key) => key.id), everything.data.slice(3, 6).map((key) => key.id));

  // An unknown parameter is ignored, as on every GET.
  t.equal((await app.inject({ url: '/v1/keys?extra=1', headers: admin })).statusCode, 200, 'extra=1 is ignored');
  for (const bad of ['limit=0', 'limit=101', 'limit=two']) {
    const response = await app.inject({ url: `/v1/keys?${bad}`, headers: admin });
    t.equal(response.statusCode, 400, bad);
    t.equal(json(response).code, 'VALIDATION_FAILED');
  }
  for (const cursor of ['garbage!', 'abc', encodeCursor('tags', ['x', UNKNOWN_ID]), encodeCursor('keys', ['yesterday', UNKNOWN_ID])]) {
    const response = await app.inject({ url: `/v1/keys?cursor=${cursor}`, headers: admin });
    t.equal(response.statusCode, 400, `cursor ${cursor.slice(0, 20)}`);
    t.equal(json(response).code, 'INVALID_CURSOR');
  }
});

t.test('a tampered cursor with an impossible timestamp is 400, not 500', async (t) => {
  // Passes z.iso.datetime() and makes a valid JS Date, but PostgreSQL has no year 0.
  const cursor = encodeCursor('keys', ['0000-01-01T00:00:00Z', UNKNOWN_ID]);
  const response = await app.inject({ url: `/v1/keys?cursor=${cursor}`, headers: admin });
  t.equal(response.statusCode, 400, 'status 400');
  t.equal(json(response).code, 'INVALID_CURSOR', 'code INVALID_CURSOR');
  t.not(response.statusCode, 500, 'never a 500');
});

t.test('the database never holds the key or its secret', async (t) => {
  const created = await createKey('admin', 'stored safely');
  const secret = KEY_SHAPE.exec(created.key)?.[2] ?? '';
  t.equal(secret.length, 43);

  const result = (await database.db.execute(sql`select * from api_keys`)) as unknown as { rows: Record<string, unknown>[] };
  t.ok(result.rows.length >= 2, 'the table has rows');
  const row = result.rows.find((r) => r.id === created.id);
  t.ok(row, 'the new key has a row');
  for (const stored of result.rows) {
    for (const [column, value] of Object.entries(stored)) {
      const text = value instanceof Date ? value.toISOString() : String(value);
      if (text.includes(secret) || text.includes(created.key)) t.fail(`api_keys.${column} holds the secret`);
      if (secret.includes(text) && text.length >= 8) t.fail(`api_keys.${column} holds part of the secret`);
    }
  }
  t.not(row?.secret_hash, secret);
  t.match(row?.secret_hash, /^[0-9a-f]{64}$/, 'a SHA-256 digest');
  t.equal(`lede_${String(row?.prefix)}`, created.prefix, 'only the public prefix is stored in clear');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a key revoked or deleted in SQL stops working once its kept copy expires (KEY_CACHE_TTL)', async (t) => {
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const ttlMs = 1_000;
  const shortLived = await buildApp(configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', KEY_CACHE_TTL: `${ttlMs}ms` }), {
    database: shared,
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => shortLived.close());
  const revoked = await createKey('reader', 'revoked in SQL');
  const deleted = await createKey('reader', 'deleted in SQL');
  const read = (key: string) => shortLived.inject({ url: '/v1/tags', headers: { authorization: `Bearer ${key}` } });
  for (const key of [revoked, deleted]) t.equal((await read(key.key)).statusCode, 200, `${key.name}: resolved, and now kept`);

  // Straight in SQL: no announcement reaches the processes that keep the key.
  await database.db.execute(sql`update api_keys set revoked_at = now() where id = ${revoked.id}`);
  await database.db.execute(sql`delete from api_keys where id = ${deleted.id}`);
  await sleep(ttlMs + 200);
  for (const key of [revoked, deleted]) {
    const response = await read(key.key);
    t.equal(response.statusCode, 401, `${key.name}: refused once the kept copy has expired`);
    t.equal(json(response).code, 'INVALID_API_KEY');
  }
});

t.test('a write under a kept key whose row was deleted is 401, not 500, and writes nothing', async (t) => {
  const editor = await createKey('editor', 'deleted mid-session');
  const headers = { authorization: `Bearer ${editor.key}` };
  const first = await app.inject({ method: 'POST', url: '/v1/articles', headers, payload: { title: 'Before the key vanished' } });
  t.equal(first.statusCode, 201, 'the key works, and is now kept');
  const article = json<{ id: string }>(first);

  await database.db.execute(sql`delete from api_keys where id = ${editor.id}`);
  const writes = [
    { method: 'POST' as const, url: '/v1/articles', payload: { title: 'After the key vanished' } },
    { method: 'PATCH' as const, url: `/v1/articles/${article.id}`, payload: { title: 'Edited after the key vanished' }, etag: first.headers.etag },
  ];
  for (const write of writes) {
    const response = await app.inject({
      method: write.method,
      url: write.url,
      headers: { ...headers, ...(write.etag ? { 'if-match': String(write.etag) } : {}) },
      payload: write.payload,
    });
    t.equal(response.statusCode, 401, `${write.method} ${write.url}`);
    t.equal(json(response).code, 'INVALID_API_KEY');
    t.match(response.headers['www-authenticate'], /^Bearer\b/);
  }
  const titles = (await database.db.execute(sql`select title from articles where title like '%after the key vanished'`)) as unknown as {
    rows: unknown[];
  };
  t.equal(titles.rows.length, 0, 'nothing was written');
});
