import t from 'tap';
import { ResponseCache } from '../../src/cache/response-cache.js';

const entry = (payload: string, dependsOn: string[], expiresAt = Infinity) => ({
  payload,
  headers: { 'content-type': 'application/json' },
  dependsOn,
  expiresAt,
});

t.test('an invalidation evicts exactly the entries that depend on its keys', async (t) => {
  const cache = new ResponseCache(1024 * 1024);
  cache.store('/a', entry('a', ['article:1', 'articles']), cache.generation);
  cache.store('/b', entry('b', ['article:2']), cache.generation);
  cache.store('/list', entry('list', ['articles']), cache.generation);
  cache.invalidate(['article:1']);
  t.notOk(cache.lookup('/a'));
  t.equal(cache.lookup('/b')?.payload, 'b');
  t.equal(cache.lookup('/list')?.payload, 'list');
  cache.invalidate(['articles']);
  t.notOk(cache.lookup('/list'));
  t.equal(cache.size, 1);
});

t.test('a fill that started before an invalidation is dropped', async (t) => {
  const cache = new ResponseCache(1024 * 1024);
  const startedAt = cache.generation;
  cache.invalidate(['article:9']); // a write committed while the fill was reading
  t.notOk(cache.store('/a', entry('old', ['article:1']), startedAt));
  t.notOk(cache.lookup('/a'));
  t.ok(cache.store('/a', entry('new', ['article:1']), cache.generation));
  cache.clear();
  t.notOk(cache.lookup('/a'));
});

t.test('entries end at their expiry time', async (t) => {
  const cache = new ResponseCache(1024 * 1024);
  cache.store('/a', entry('a', ['articles'], 1_000), cache.generation);
  t.ok(cache.lookup('/a', 999));
  t.notOk(cache.lookup('/a', 1_000));
  t.equal(cache.size, 0);
});

t.test('the size bound evicts the least recently used first', async (t) => {
  const payload = 'x'.repeat(1_000);
  const cache = new ResponseCache(20_000);
  for (let i = 0; i < 8; i += 1) cache.store(`/${i}`, entry(payload, ['k']), cache.generation);
  t.ok(cache.lookup('/0'), 'touched: now the most recent');
  for (let i = 8; i < 12; i += 1) cache.store(`/${i}`, entry(payload, ['k']), cache.generation);
  t.ok(cache.sizeBytes <= 20_000, `${cache.sizeBytes} bytes held`);
  t.ok(cache.lookup('/0'), 'the recently used entry stays');
  t.notOk(cache.lookup('/1'), 'the least recently used went first');
  t.notOk(cache.store('/huge', entry('y'.repeat(5_000), ['k']), cache.generation), 'an entry over an eighth of the bound is not kept');
  cache.invalidate(['k']);
  t.equal(cache.size, 0);
  t.equal(cache.sizeBytes, 0);
});
