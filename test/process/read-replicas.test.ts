import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import { openPostgres } from '../../src/db/postgres.js';
import { replicaName } from '../../src/db/replicas.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { json } from '../helper.js';
import { findPostgres, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.js';
import { sleep, until } from './waiting.js';

/**
 * Read replicas, for real: a throwaway PostgreSQL primary and a streaming replica of it
 * (pg_basebackup -R), the app in-process with DATABASE_READ_URLS. Anonymous reads are served by
 * the replica once it has replayed what the app heard of; keyed reads use the primary; a
 * replica that stops, or whose replay is paused past DATABASE_REPLICA_MAX_LAG_MS, costs no
 * failed request and no stale answer. Runs in the PGlite pass with the other process tests
 * (it brings its own servers); skips, saying why, without PostgreSQL server binaries.
 */
t.setTimeout(120_000);

const MAX_LAG_MS = 1_500;

const found = findPostgres();
if ('skip' in found) {
  t.pass(`skipped: ${found.skip}`);
} else {
  const primary = await startThrowawayPostgres(found.binDir, found.runAs);
  t.teardown(() => primary.destroy());
  const replica = await startThrowawayPostgres(found.binDir, found.runAs, primary);
  t.teardown(() => replica.destroy());
  await runReplicaTests(primary, replica);
}

async function runReplicaTests(primary: ThrowawayPostgres, replica: ThrowawayPostgres): Promise<void> {
  const primaryUrl = primary.url('postgres');
  const replicaUrl = replica.url('postgres');
  const name = replicaName(replicaUrl);
  const database = await openPostgres({ connectionString: primaryUrl, poolMax: 5 });
  await database.migrate();
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
  const config = configFrom({
    DATABASE_URL: primaryUrl,
    DATABASE_READ_URLS: replicaUrl,
    DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
    LOG_LEVEL: 'warn',
    DEMO_CONTENT: 'false',
    RATE_LIMIT_MAX: '1000000',
  });
  const app: FastifyInstance = await buildApp(config, { database, logger });
  t.teardown(() => app.close());
  await app.ready();
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'replicas' });
  const editor = { authorization: `Bearer ${key}` };
  const replicaAdmin = new pg.Client({ connectionString: replicaUrl });
  // It loses its connection when the replica is stopped below.
  replicaAdmin.on('error', () => {});
  await replicaAdmin.connect();
  t.teardown(() => replicaAdmin.end().catch(() => {}));

  const write = async (method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>, version?: number) => {
    const headers = { ...editor, ...(version ? { 'if-match': `"v${version}"` } : {}) };
    const response = await app.inject({ method, url, headers, payload });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return json<{ id: string; slug: string; version: number; title: string }>(response);
  };
  const publishNew = async (title: string) => {
    const created = await write('POST', '/v1/articles', { title });
    return write('POST', `/v1/articles/${created.id}/publish`, {}, created.version);
  };
  const metric = async (line: RegExp): Promise<number> => {
    const text = (await app.inject('/metrics')).body;
    const match = text.split('\n').find((entry) => line.test(entry));
    return match ? Number(match.split(' ').at(-1)) : 0;
  };
  const replicaReads = () => metric(new RegExp(`^lede_db_anonymous_reads_total\\{target="${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"\\}`));
  const primaryReads = () => metric(/^lede_db_anonymous_reads_total\{target="primary"\}/);
  const replicaState = async () => {
    const ready = json<{ replicas: { name: string; state: string; lagMs: number | null }[] }>(await app.inject('/readyz'));
    return ready.replicas.find((entry) => entry.name === name)?.state;
  };
  /** An anonymous read that misses the response cache: a search no earlier request made. */
  let searches = 0;
  const anonymousList = () => app.inject(`/v1/articles?q=story${searches++}`);

  await t.test('the replica streams and is reported up', async (t) => {
    await until('the replica to be up', async () => (await replicaState()) === 'up');
    const ready = await app.inject('/readyz');
    t.equal(ready.statusCode, 200);
    t.match(json(ready), { status: 'ready', replicas: [{ name, state: 'up' }] });
    t.match((await app.inject('/metrics')).body, new RegExp(`lede_db_replica_up\\{replica="${name}"\\} 1`));
  });

  await t.test('anonymous reads are served by the replica once it has replayed the write', async (t) => {
    const article = await publishNew('Replicated story');
    await until('anonymous reads on the replica', async () => {
      const before = await replicaReads();
      const response = await anonymousList();
      return response.statusCode === 200 && (await replicaReads()) > before;
    });
    const before = await replicaReads();
    const response = await app.inject(`/v1/articles/${article.slug}`);
    t.equal(response.statusCode, 200);
    t.equal(json(response).title, 'Replicated story');
    t.ok((await replicaReads()) > before, 'the read was counted on the replica');
  });

  await t.test('an editor reads her write at once; anonymous readers never see older content than the process heard of', async (t) => {
    // Replay stops: the replica keeps running, answering with old content.
    await replicaAdmin.query('select pg_wal_replay_pause()');
    t.teardown(() => replicaAdmin.query('select pg_wal_replay_resume()').then(() => undefined));
    const cachedBefore = await app.inject('/v1/articles');
    t.equal(cachedBefore.statusCode, 200);
    const article = await publishNew('Written while replay is paused');
    const keyed = await app.inject({ url: `/v1/articles/${article.id}`, headers: editor });
    t.equal(keyed.statusCode, 200, 'the editor reads her write from the primary');
    const anonymous = await app.inject(`/v1/articles/${article.slug}`);
    t.equal(anonymous.statusCode, 200, 'an anonymous read after the write goes to the primary, not the paused replica');
    const list = json<{ data: { id: string }[] }>(await app.inject('/v1/articles'));
    t.equal(list.data[0]?.id, article.id, 'the cached list was refilled with the write, not from the replica');
    const onReplica = await replicaAdmin.query('select count(*)::int as n from articles where id = $1', [article.id]);
    t.equal(onReplica.rows[0].n, 0, 'the replica really has not replayed it');
  });

  await t.test('a replica lagging past the bound is reported and skipped; it comes back when it catches up', async (t) => {
    await replicaAdmin.query('select pg_wal_replay_pause()');
    await publishNew('Lag maker');
    await until('the replica to be reported lagging', async () => (await replicaState()) === 'lagging');
    t.match((await app.inject('/metrics')).body, new RegExp(`lede_db_replica_up\\{replica="${name}"\\} 0`));
    const before = await replicaReads();
    for (let i = 0; i < 5; i++) t.equal((await anonymousList()).statusCode, 200);
    t.equal(await replicaReads(), before, 'no read went to the lagging replica');
    t.equal((await app.inject('/readyz')).statusCode, 200, 'a lagging replica does not make the process unready');
    await replicaAdmin.query('select pg_wal_replay_resume()');
    await until('the replica to be up again', async () => (await replicaState()) === 'up');
    await until('reads on the replica again', async () => {
      const count = await replicaReads();
      await anonymousList();
      return (await replicaReads()) > count;
    });
  });

  await t.test('a replica stopped under traffic costs no failed request', async (t) => {
    let stop = false;
    const statuses = new Map<number, number>();
    const traffic = (async () => {
      while (!stop) {
        const response = await anonymousList();
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      }
    })();
    await sleep(300);
    const primaryBefore = await primaryReads();
    await replica.stop();
    await until('the replica to be reported down', async () => (await replicaState()) === 'down');
    await sleep(300);
    stop = true;
    await traffic;
    t.same([...statuses.keys()], [200], `every read answered 200 (${JSON.stringify([...statuses])})`);
    t.ok((await primaryReads()) > primaryBefore, 'reads went to the primary');
    t.equal((await app.inject('/readyz')).statusCode, 200, 'a replica that is down does not make the process unready');

    await replica.start();
    await until('the replica to be up after its restart', async () => (await replicaState()) === 'up');
    await replicaAdmin.end().catch(() => {});
  });

  await t.test('DATABASE_LISTEN_URL: LISTEN and the migration lock use the direct connection, queries the pool', async (t) => {
    const direct = await openPostgres({ connectionString: primaryUrl, listenConnectionString: `${primaryUrl}?application_name=lede-direct`, poolMax: 2 });
    t.teardown(() => direct.close());
    let connected!: () => void;
    const listening = new Promise<void>((resolve) => (connected = resolve));
    const stop = await direct.listen('lede_listen_url_test', { notification() {}, connected: () => connected(), lost() {} });
    t.teardown(stop);
    await listening;
    const sessions = await direct.pool.query<{ query: string }>("select query from pg_stat_activity where application_name = 'lede-direct'");
    t.match(sessions.rows.map((row) => row.query), [/listen/i], 'the listening session came from DATABASE_LISTEN_URL');
    await direct.migrate();
    t.pass('migrations run on the direct connection');

    const wrongDirect = await openPostgres({ connectionString: primaryUrl, listenConnectionString: primary.url('no_such_database'), poolMax: 2 });
    t.teardown(() => wrongDirect.close());
    await wrongDirect.ping();
    await t.rejects(wrongDirect.migrate(), /no_such_database/, 'the migration went to the direct URL, not the pool');
  });

  t.notOk(
    logged.some((line) => /"level":50/.test(line)),
    `no error was logged: ${logged.filter((line) => /"level":50/.test(line)).join('\n')}`,
  );
}
