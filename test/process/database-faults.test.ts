import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import {
  CONNECT_TIMEOUT_MS,
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  LOCK_TIMEOUT_MS,
  openPostgres,
  STATEMENT_TIMEOUT_MS,
} from '../../src/db/postgres.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { findPostgres, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.js';
import { sleep, within } from './waiting.js';

/**
 * Database faults, for real: the app (in-process, on the pg driver) runs on a PostgreSQL cluster
 * of this file's own, which is stopped mid-traffic, started again, has its pool's connections
 * killed, a table locked, and its postmaster killed with SIGKILL. The app is never rebuilt: it
 * must answer 503 with Retry-After quickly while the database is away and recover by itself.
 * It needs no TEST_DATABASE_URL (it brings its own server), so it runs in the PGlite pass with the
 * other process tests; it skips, saying why, where no PostgreSQL server binaries are installed.
 */
t.setTimeout(60_000);

/** The outage budget: every request answers within about CONNECT_TIMEOUT_MS, plus a margin. */
const ANSWER_WITHIN_MS = 2_500;
const INJECT_TIMEOUT_MS = 10_000;
const RECOVERY_TIMEOUT_MS = 15_000;
const TRAFFIC_BEFORE_STOP_MS = 300;
const TRAFFIC_DURING_OUTAGE_MS = 1_500;
const TRAFFIC_PAUSE_MS = 10;
const POLL_MS = 100;
const BURST_SIZE = 50;
const KILL_AFTER_RESPONSES = 10;

interface Timed {
  what: string;
  response: LightMyRequestResponse;
  startedAt: number;
  endedAt: number;
  ms: number;
}

function body<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

/** The one acceptable failure: 503 problem+json, SERVICE_UNAVAILABLE, with Retry-After. */
function isUnavailableProblem(response: LightMyRequestResponse): boolean {
  return (
    response.statusCode === 503 &&
    response.headers['content-type'] === 'application/problem+json; charset=utf-8' &&
    body(response).code === 'SERVICE_UNAVAILABLE' &&
    /^[1-9]\d*$/.test(String(response.headers['retry-after']))
  );
}

const found = findPostgres();
if ('skip' in found) {
  t.plan(0, found.skip);
} else {
  const cluster = await startThrowawayPostgres(found.binDir, found.runAs);
  t.teardown(() => cluster.destroy());
  await runFaultTests(cluster);
}

async function runFaultTests(cluster: ThrowawayPostgres): Promise<void> {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('create database lede');
  await admin.end();

  const database = await openPostgres({ connectionString: cluster.url('lede'), poolMax: 5 });
  await database.migrate();
  // Errors the app logs are kept (not printed) so that an unexpected 500 can say what it was.
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const config = configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RATE_LIMIT_MAX: '1000000' });
  const app = await buildApp(config, { database, logger });
  t.teardown(() => app.close());
  await app.ready();
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'database faults' });
  const editor = { authorization: `Bearer ${key}` };
  const runId = randomUUID().slice(0, 8);
  let written = 0;
  const newTag = () => ({ name: `Fault ${runId} ${(written += 1)}`, locale: 'en' });

  const timed = async (what: string, options: InjectOptions): Promise<Timed> => {
    const startedAt = performance.now();
    const response = await within(app.inject(options), INJECT_TIMEOUT_MS, what);
    const endedAt = performance.now();
    return { what, response, startedAt, endedAt, ms: endedAt - startedAt };
  };
  const unexpected = (results: Timed[]) =>
    results
      .filter((r) => ![200, 201].includes(r.response.statusCode) && !isUnavailableProblem(r.response))
      .map((r) => `${r.what}: ${r.response.statusCode} ${r.response.body.slice(0, 200)}`);
  /** What the app logged, attached to an assertion only when it fails. */
  const diagnostics = (problems: string[]) => (problems.length > 0 ? { logged: logged.slice(-5) } : {});
  const onlyUnavailable = (t: Test, results: Timed[], message: string) => {
    const problems = unexpected(results);
    t.same(problems, [], message, diagnostics(problems));
  };

  /** Polls a read until it succeeds; how long that took, or null if it never did. */
  const recoveredWithin = async (what: string, options: InjectOptions, ms: number) => {
    const started = performance.now();
    const failures: Timed[] = [];
    while (performance.now() - started < ms) {
      const result = await timed(what, options);
      if (result.response.statusCode === 200) return { ms: performance.now() - started, failures };
      failures.push(result);
      await sleep(POLL_MS);
    }
    return { ms: null, failures };
  };

  const seed = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: `Before ${runId}` } });
  if (seed.statusCode !== 201) throw new Error(`could not create the tag the tests read: ${seed.statusCode} ${seed.body}`);
  const seedTag = body<{ id: string; slug: string }>(seed);

  await t.test('pooled sessions run with the statement, lock and idle-in-transaction timeouts', async (t) => {
    // Read on one of the app's own pooled sessions: these are per-session settings.
    const result = (await database.db.execute(
      "select name, setting from pg_settings where name in ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')",
    )) as unknown as { rows: { name: string; setting: string }[] };
    const settings = Object.fromEntries(result.rows.map((row) => [row.name, Number(row.setting)]));
    t.same(settings, {
      statement_timeout: STATEMENT_TIMEOUT_MS,
      lock_timeout: LOCK_TIMEOUT_MS,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    });
  });

  await t.test('a server that accepts connections and never answers: 503 after the connect timeout', async (t) => {
    // What a hung PostgreSQL or a half-open network path looks like to the driver.
    const sockets = new Set<net.Socket>();
    const blackHole = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as net.AddressInfo;
    const silent = await openPostgres({ connectionString: `postgres://lede@127.0.0.1:${port}/lede`, poolMax: 2 });
    const hung = await buildApp(config, { database: silent, logger: pino({ level: 'silent' }) });
    // Teardowns run last-registered first: the black hole's sockets are gone before the pool ends.
    t.teardown(() => hung.close());
    t.teardown(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackHole.close(resolve));
    });
    await hung.ready();

    const results = await Promise.all(
      [{ url: '/readyz' }, { url: '/v1/tags' }, { url: '/v1/tags', headers: editor }, { url: '/v1/timeline' }].map(async (options) => {
        const started = performance.now();
        const response = await within(hung.inject(options), INJECT_TIMEOUT_MS, options.url);
        return { what: `GET ${options.url}${options.headers ? ' (editor)' : ''}`, response, ms: performance.now() - started };
      }),
    );
    for (const { what, response, ms } of results) {
      t.equal(response.statusCode, 503, `${what}: 503`);
      t.match(response.headers['retry-after'], /^[1-9]\d*$/, `${what}: Retry-After`);
      if (what !== 'GET /readyz') t.ok(isUnavailableProblem(response), `${what}: problem+json SERVICE_UNAVAILABLE`);
      t.ok(ms >= CONNECT_TIMEOUT_MS - 50 && ms < ANSWER_WITHIN_MS, `${what}: answered in ${Math.round(ms)} ms`);
    }
  });

  await t.test('a lock held too long is a 503 with Retry-After after lock_timeout, not a hang', async (t) => {
    const locker = new pg.Client({ connectionString: cluster.url('lede') });
    await locker.connect();
    t.teardown(() => locker.end());
    await locker.query('begin');
    await locker.query('lock table tags in access exclusive mode');
    const blocked = await timed('GET /v1/tags behind a lock', { url: '/v1/tags' });
    await locker.query('rollback');
    t.ok(isUnavailableProblem(blocked.response), `503 SERVICE_UNAVAILABLE with Retry-After (got ${blocked.response.statusCode})`);
    t.ok(blocked.ms >= LOCK_TIMEOUT_MS - 50 && blocked.ms < LOCK_TIMEOUT_MS + 1_000, `answered after ${Math.round(blocked.ms)} ms`);
    t.equal((await app.inject({ url: '/v1/tags' })).statusCode, 200, 'and fine once the lock is gone');
  });

  await t.test('PostgreSQL stopped mid-traffic: reads and writes answer 503 quickly; /readyz is 503', async (t) => {
    const results: Timed[] = [];
    let running = true;
    const worker = async (what: string, options: () => InjectOptions) => {
      while (running) {
        results.push(await timed(what, options()));
        await sleep(TRAFFIC_PAUSE_MS);
      }
    };
    const workers = [
      worker('GET /v1/tags/{slug}', () => ({ url: `/v1/tags/${seedTag.slug}` })),
      worker('GET /v1/tags', () => ({ url: '/v1/tags?limit=5' })),
      worker('GET /v1/tags (editor)', () => ({ url: '/v1/tags?limit=5', headers: editor })),
      worker('POST /v1/tags', () => ({ method: 'POST', url: '/v1/tags', headers: editor, payload: newTag() })),
    ];
    await sleep(TRAFFIC_BEFORE_STOP_MS);
    const stopAt = performance.now();
    await cluster.stopImmediately();
    const stoppedAt = performance.now();
    await sleep(TRAFFIC_DURING_OUTAGE_MS);
    running = false;
    await Promise.all(workers);

    const before = results.filter((r) => r.endedAt < stopAt);
    const after = results.filter((r) => r.startedAt > stoppedAt);
    t.ok(before.length > 0 && before.every((r) => r.response.statusCode < 300), `${before.length} requests succeeded before the stop`);
    onlyUnavailable(t, results, 'only 2xx or 503 problem+json, never a 500');
    // A copy the response cache already held may still be served in the moment before the process
    // hears its listening connection drop: it is current, since nothing can be written any more.
    const cacheHit = (r: Timed) => r.response.statusCode === 200 && r.response.headers['x-cache'] === 'hit' && r.what.startsWith('GET');
    t.ok(after.length > 0 && after.every((r) => isUnavailableProblem(r.response) || cacheHit(r)), `all ${after.length} requests after the stop: 503, or a hit of the response cache`);
    t.ok(after.filter((r) => !cacheHit(r)).length > 0, 'requests that reach the database among them');
    t.ok(after.some((r) => r.what.startsWith('POST')), 'writes among them');
    t.ok(after.some((r) => r.what.startsWith('GET')), 'reads among them');
    const slowest = Math.max(...results.map((r) => r.ms));
    t.ok(slowest < ANSWER_WITHIN_MS, `every request answered within ${ANSWER_WITHIN_MS} ms (slowest ${Math.round(slowest)} ms)`);
    const first503 = results.find((r) => r.response.statusCode === 503);
    t.comment(
      `${results.length} requests; stop took ${Math.round(stoppedAt - stopAt)} ms; first 503 ${Math.round((first503?.endedAt ?? NaN) - stopAt)} ms after the stop began; slowest ${Math.round(slowest)} ms`,
    );

    for (const options of [
      { url: '/readyz' },
      { url: `/v1/tags/${seedTag.id}` },
      { method: 'POST' as const, url: '/v1/tags', headers: editor, payload: newTag() },
    ]) {
      const result = await timed(`${options.method ?? 'GET'} ${options.url}`, options);
      t.equal(result.response.statusCode, 503, `${result.what}: 503`);
      t.match(result.response.headers['retry-after'], /^[1-9]\d*$/, `${result.what}: Retry-After`);
      t.ok(result.ms < ANSWER_WITHIN_MS, `${result.what}: answered in ${Math.round(result.ms)} ms`);
      if (options.url === '/readyz') t.same(body(result.response), { status: 'unavailable', database: 'down', migrations: 'unknown', replicas: [] });
      else t.ok(isUnavailableProblem(result.response), `${result.what}: problem+json SERVICE_UNAVAILABLE`);
    }
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness does not depend on the database');
  });

  await t.test('PostgreSQL started again: the same app recovers by itself', async (t) => {
    const startAt = performance.now();
    await cluster.start();
    const startedAt = performance.now();
    const recovery = await recoveredWithin('GET /v1/tags/{id}', { url: `/v1/tags/${seedTag.id}` }, RECOVERY_TIMEOUT_MS);
    t.not(recovery.ms, null, 'reads succeed again');
    onlyUnavailable(t, recovery.failures, 'nothing but 503 while it came back');
    t.comment(`cluster start took ${Math.round(startedAt - startAt)} ms; first successful read ${Math.round(recovery.ms ?? NaN)} ms after it`);

    const ready = await app.inject({ url: '/readyz' });
    t.equal(ready.statusCode, 200);
    t.same(body(ready), { status: 'ready', database: 'up', migrations: 'applied', replicas: [] });
    const created = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: newTag() });
    t.equal(created.statusCode, 201, 'writes succeed again');
    const seedRead = await app.inject({ url: `/v1/tags/${seedTag.id}`, headers: editor });
    t.equal(seedRead.statusCode, 200, 'with a key, too');
    t.match(body(seedRead), { id: seedTag.id, slug: seedTag.slug });
  });

  await t.test('every pooled connection killed: the pool replaces them without a restart', async (t) => {
    // Fill the pool, then terminate all of its connections from another session.
    await Promise.all(Array.from({ length: 10 }, () => app.inject({ url: '/v1/tags?limit=5' })));
    const killer = new pg.Client({ connectionString: cluster.url('postgres') });
    await killer.connect();
    t.teardown(() => killer.end());
    const { rows } = await killer.query<{ killed: number }>(
      "select count(*)::int as killed from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lede') x",
    );
    t.ok((rows[0]?.killed ?? 0) > 0, `${rows[0]?.killed} pooled connections terminated`);

    const recovery = await recoveredWithin('GET /v1/tags', { url: '/v1/tags?limit=5' }, RECOVERY_TIMEOUT_MS);
    t.not(recovery.ms, null, 'reads succeed again');
    onlyUnavailable(t, recovery.failures, 'nothing but 503 before that');
    t.comment(`${recovery.failures.length} request(s) answered 503 before the pool recovered (${Math.round(recovery.ms ?? NaN)} ms)`);
    const burst = await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/v1/tags?limit=5' })));
    t.same(
      burst.map((r) => r.statusCode),
      burst.map(() => 200),
      'a burst on the replaced connections all succeeds',
    );
  });

  await t.test('kill -9 of the postmaster: every write answered 2xx survives, complete', async (t) => {
    let answered = 0;
    let killAfter!: () => void;
    const enoughAnswered = new Promise<void>((resolve) => (killAfter = resolve));
    const burst = Array.from({ length: BURST_SIZE }, (_, i) =>
      timed(`POST /v1/tags #${i}`, { method: 'POST', url: '/v1/tags', headers: editor, payload: newTag() }).then((result) => {
        answered += 1;
        if (answered >= KILL_AFTER_RESPONSES) killAfter();
        return result;
      }),
    );
    await within(enoughAnswered, INJECT_TIMEOUT_MS, `${KILL_AFTER_RESPONSES} answers`);
    const inFlightAtKill = BURST_SIZE - answered;
    await cluster.killPostmaster();
    const results = await Promise.all(burst);

    onlyUnavailable(t, results, 'every write answered 201 or 503, never a 500');
    const acknowledged = results
      .filter((r) => r.response.statusCode === 201)
      .map((r) => body<{ id: string; name: string; slug: string; version: number }>(r.response));
    t.ok(acknowledged.length >= KILL_AFTER_RESPONSES, `${acknowledged.length} writes answered 201`);
    t.comment(`${inFlightAtKill} of ${BURST_SIZE} writes in flight at the kill; ${acknowledged.length} answered 201`);

    await cluster.start(); // crash recovery replays the write-ahead log
    const recovery = await recoveredWithin('GET /readyz', { url: '/readyz' }, RECOVERY_TIMEOUT_MS);
    t.not(recovery.ms, null, 'the app is ready again');

    const missing: string[] = [];
    for (const tag of acknowledged) {
      const read = await app.inject({ url: `/v1/tags/${tag.id}` });
      const stored = read.statusCode === 200 ? body<typeof tag>(read) : null;
      if (!stored || stored.name !== tag.name || stored.slug !== tag.slug || stored.version !== tag.version) {
        missing.push(`${tag.name}: ${read.statusCode} ${read.body.slice(0, 200)}`);
      }
    }
    t.same(missing, [], `all ${acknowledged.length} acknowledged writes are there, with their name, slug and version`);
  });

  await t.test('after every fault, no pooled connection is left checked out', async (t) => {
    // A transaction whose BEGIN failed during an outage once kept its connection for good.
    const deadline = Date.now() + 2_000;
    let stats = database.poolStats?.();
    while (stats && stats.total !== stats.idle && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stats = database.poolStats?.();
    }
    t.ok(stats, 'the pool reports its use');
    t.equal(stats?.total, stats?.idle, `every open connection is idle (${JSON.stringify(stats)})`);
    t.equal((await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: newTag() })).statusCode, 201, 'and writes go on');
  });
}
