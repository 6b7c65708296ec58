import t from 'tap';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { buildTestApp, json } from '../helper.js';

const { app, database, config } = await buildTestApp(t);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text into samples (comments skipped). */
function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[name!] = value!;
    found.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return found;
}

function find(all: Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return all.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

async function scrape(target = app): Promise<Sample[]> {
  const response = await target.inject({ url: '/metrics' });
  t.equal(response.statusCode, 200);
  return samples(response.body);
}

t.test('GET /metrics serves Prometheus text, never cached', async (t) => {
  const response = await app.inject({ url: '/metrics' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.equal(response.headers['cache-control'], 'no-store');
  t.match(response.body, /^# HELP lede_http_requests_total /m);
  t.match(response.body, /^# TYPE lede_http_request_duration_seconds histogram$/m);
});

t.test('requests are counted and timed by route pattern and status code', async (t) => {
  const before = await scrape();
  const countOf = (all: Sample[], labels: Record<string, string>) =>
    find(all, 'lede_http_requests_total', labels)?.value ?? 0;
  const listTags = { method: 'GET', route: '/v1/tags', status_code: '200' };
  const missingTag = { method: 'GET', route: '/v1/tags/:idOrSlug', status_code: '404' };
  const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };

  await app.inject({ url: '/v1/tags' });
  await app.inject({ url: '/v1/tags?limit=5' });
  t.equal((await app.inject({ url: '/v1/tags/metrics-no-such-tag' })).statusCode, 404);
  t.equal((await app.inject({ url: '/v1/tags/metrics-no-such-tag-either' })).statusCode, 404);
  t.equal((await app.inject({ url: '/metrics-no-such-route/12345' })).statusCode, 404);

  const after = await scrape();
  t.equal(countOf(after, listTags) - countOf(before, listTags), 2, 'GET /v1/tags 200');
  t.equal(countOf(after, missingTag) - countOf(before, missingTag), 2, 'two slugs, one route pattern');
  t.equal(countOf(after, unmatched) - countOf(before, unmatched), 1, 'an unknown URL is counted as unmatched');

  const timed = find(after, 'lede_http_request_duration_seconds_count', listTags);
  t.ok(timed && timed.value >= 2, 'the duration histogram counts them');
  const sum = find(after, 'lede_http_request_duration_seconds_sum', listTags);
  t.ok(sum && sum.value > 0, 'and sums their time');
  t.ok(find(after, 'lede_http_request_duration_seconds_bucket', { ...listTags, le: '+Inf' }), 'with buckets');

  const routes = new Set(after.filter((s) => s.name.startsWith('lede_http_')).map((s) => s.labels.route));
  for (const route of routes) {
    t.notMatch(String(route), /no-such|12345|\?/, `route label "${route}" is a pattern, never a raw URL`);
  }
});

t.test('process and database pool metrics', async (t) => {
  const all = await scrape();
  for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    t.ok(find(all, name, {}), name);
  }
  if (database.kind === 'postgres') {
    const total = find(all, 'lede_db_pool_connections', {});
    t.ok(total && total.value >= 1 && total.value <= 5, `pool connections: ${total?.value}`);
    t.ok(find(all, 'lede_db_pool_idle_connections', {}), 'idle connections');
    t.equal(find(all, 'lede_db_pool_waiting_requests', {})?.value, 0, 'nobody waiting');
  } else {
    t.notOk(find(all, 'lede_db_pool_connections', {}), 'PGlite has no pool to report');
  }
});

t.test('each app has its own registry', async (t) => {
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const other = await buildApp(config, { database: shared, logger: pino({ level: 'silent' }) });
  t.teardown(() => other.close());
  await other.ready();
  t.equal((await app.inject({ url: '/v1/timeline' })).statusCode, 200);
  const theirs = await scrape(other);
  t.notOk(find(theirs, 'lede_http_requests_total', { route: '/v1/timeline' }), 'the other app did not see it');
  t.ok(find(await scrape(), 'lede_http_requests_total', { route: '/v1/timeline' }), 'this app did');
});

t.test('GET /metrics is documented as text/plain, public, under Operations', async (t) => {
  const document = json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(await app.inject({ url: '/openapi.json' }));
  const operation = document.paths['/metrics']?.get as
    | { operationId: string; summary: string; tags: string[]; security: object[]; responses: Record<string, { content?: object }> }
    | undefined;
  t.ok(operation, 'documented');
  t.equal(operation?.operationId, 'metrics');
  t.ok(operation?.summary);
  t.same(operation?.tags, ['Operations']);
  t.ok(operation?.security.some((requirement) => Object.keys(requirement).length === 0), 'callable without a key');
  t.same(Object.keys(operation?.responses['200']?.content ?? {}), ['text/plain']);
});
