import { readFileSync } from 'node:fs';
import pg from 'pg';
import t from 'tap';
import { MAX_KEPT_SHAPES, placeholder, preparedStatements } from '../../src/db/prepared.js';
import { statementBoundedClient } from '../../src/db/statement-bounded-client.js';
import { listStatement } from '../../src/modules/articles/articles.list-query.js';
import { ANONYMOUS } from '../../src/modules/articles/visibility.js';
import { entriesQuery } from '../../src/modules/timeline/timeline.repository.js';
import { buildTestApp, databaseUnderTest, freshDatabase } from '../helper.js';

// Named prepared statements live in PostgreSQL's backends for as long as a connection does, one
// per query shape; client input picks the shape, so what each connection keeps must be bounded.

t.test('the in-process copy of built statements is bounded and rebuilds what fell out', async (t) => {
  let built = 0;
  const statements = preparedStatements<string>('test', 3);
  const db = {} as never;
  const use = (shape: string) => statements(db, shape, (name) => ((built += 1), name));
  t.equal(use('a'), 'test_a');
  use('b');
  use('c');
  use('a'); // now the most recent
  use('d'); // evicts b, the least recently used
  t.equal(built, 4);
  use('a');
  use('c');
  t.equal(built, 4, 'kept shapes are not rebuilt');
  t.equal(use('b'), 'test_b');
  t.equal(built, 5, 'an evicted one is rebuilt under the same name');
  t.ok(MAX_KEPT_SHAPES >= 64, 'room for every shape real traffic uses');
});

const postgresOnly = databaseUnderTest === 'postgres' ? false : 'PostgreSQL only (PGlite prepares no named statements)';

t.test('a connection keeps at most its bound of named statements, and evicted ones still run', { skip: postgresOnly }, async (t) => {
  const Client = statementBoundedClient(5);
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  t.teardown(() => client.end());
  const run = async (i: number) => {
    const result = await client.query({ name: `bounded_${i}`, text: `select $1::int + ${i} as n` }, [1]);
    t.equal(result.rows[0].n, 1 + i);
  };
  for (let i = 0; i < 30; i += 1) await run(i);
  // Reuse of recent and evicted names, inside a transaction too, and queued without awaiting.
  await client.query('begin');
  for (const i of [29, 0, 28, 1, 27, 2, 0, 3]) await run(i);
  await client.query('commit');
  await Promise.all([4, 5, 6, 7, 8, 9, 4, 10, 0, 11].map(run));
  const kept = await client.query('select count(*)::int as n from pg_prepared_statements');
  t.ok(kept.rows[0].n <= 5, `the server holds ${kept.rows[0].n} statements`);
  // A statement that failed to parse was never kept, so evicting it must not abort a transaction.
  await client.query({ name: 'bounded_broken', text: 'select no_such_column' }).catch(() => {});
  await client.query('begin');
  for (let i = 40; i < 50; i += 1) await run(i);
  await client.query('commit');
});

/** Heap memory of the database's client backends, in bytes; null where unreadable. */
async function backendMemory(admin: pg.Client, database: string): Promise<number | null> {
  const backends = await admin.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
    [database],
  );
  let total = 0;
  for (const { pid } of backends.rows) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      // Anonymous memory is the backend's own heap; the private counters would also count the
      // pages of shared buffers that only this backend has touched so far.
      total += Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      return null; // PostgreSQL on another machine, or no permission
    }
  }
  return total;
}

t.test('900 list requests of distinct shapes grow the backends by less than 60 MB', { skip: postgresOnly }, async (t) => {
  const { app, database } = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '0', RESPONSE_CACHE_MB: '0' } });
  const name = String((await database.db.execute('select current_database() as name') as unknown as { rows: { name: string }[] }).rows[0]?.name);
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  // Open every pooled connection and fill its catalog caches first (a new backend's memory would
  // count as growth), so growth is the statements' alone.
  const warmUp = ['/v1/articles', '/v1/timeline', '/v1/articles?tag=a&tag=b&q=kyiv&section=news&label=opinion&locale=en'];
  for (let i = 0; i < 5; i += 1) await Promise.all(Array.from({ length: 10 }, (_, n) => app.inject({ url: warmUp[n % warmUp.length]! })));
  const before = await backendMemory(admin, name);
  // 900 requests, each a statement of its own before the fix (the tag count and the limit were
  // part of the shape; this drove the backends up by about 170 MB): 2 to 10 tags with any of six
  // other filters, at two page sizes. Now they make about 130 shapes, more than a connection keeps.
  const optional = ['&locale=en', '&section=news', '&label=opinion', '&publishedAfter=2024-01-01T00:00:00Z', '&publishedBefore=2030-01-01T00:00:00Z', '&q=kyiv'];
  const urls: string[] = [];
  for (const limit of [20, 100]) {
    for (let tagCount = 2; tagCount <= 10; tagCount += 1) {
      for (let subset = 0; subset < 2 ** optional.length; subset += 1) {
        const filters = optional.filter((_, bit) => subset & (1 << bit)).join('');
        const tagFilters = Array.from({ length: tagCount }, (_, tag) => `&tag=t${tag}`).join('');
        urls.push(`/v1/articles?limit=${limit}${tagFilters}${filters}`);
      }
    }
  }
  let requests = 0;
  for (let i = 0; i < 900; i += 10) {
    const responses = await Promise.all(urls.slice(i, i + 10).map((url) => app.inject({ url })));
    for (const response of responses) if (response.statusCode !== 200) t.fail(response.body);
    requests += responses.length;
  }
  t.equal(requests, 900);
  const after = await backendMemory(admin, name);
  if (before === null || after === null) {
    t.comment('skipped the memory check: backend memory is not readable from /proc here');
    return;
  }
  const grownMb = (after - before) / 1024 / 1024;
  t.ok(grownMb < 60, `backends grew by ${grownMb.toFixed(1)} MB`);
  t.comment(`backends grew by ${grownMb.toFixed(1)} MB over 900 distinct shapes`);
});

t.test('page statements write their LIMIT into the text, so PostgreSQL keeps one plan for them', async (t) => {
  const { database, drop, url } = await freshDatabase();
  // Closed before the drop: an open PGlite keeps the test process alive until tap's timeout.
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  const statements = {
    timeline: entriesQuery(database.db, { viewer: ANONYMOUS, limit: 21 }, placeholder).toSQL(),
    list: listStatement(database.db, { viewer: ANONYMOUS, limit: 21 }).toSQL(),
    tagList: listStatement(database.db, { viewer: ANONYMOUS, tagSlugs: ['kyiv'], limit: 21 }).toSQL(),
  };
  for (const [name, statement] of Object.entries(statements)) {
    t.match(statement.sql, /limit 21$/, `${name}: the limit is in the text`);
    t.notOk(statement.params.includes(21), `${name}: not among the parameters`);
  }
  if (!url) return;
  // A LIMIT parameter kept the statement on custom plans, planned again on every execution.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  for (let run = 0; run < 8; run += 1) await client.query({ name: 'timeline_page', text: statements.timeline.sql });
  const [plans] = (await client.query(`select generic_plans, custom_plans from pg_prepared_statements where name = 'timeline_page'`)).rows;
  t.same(plans, { generic_plans: '8', custom_plans: '0' }, 'every execution reused the generic plan');
});
