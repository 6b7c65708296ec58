/**
 * `npm run bench [-- --quick] [--articles N] [--timeline N] [--duration S] [--only TEXT]`
 * (`--only`: just the endpoints whose name contains TEXT, printed and not written to latest.json)
 * `npm run bench -- --stream [--clients N]`: live event streams instead (bench/stream.ts).
 * Builds Lede (`npm run build`), generates a dataset in PostgreSQL, starts Lede as production does
 * (`node dist/server.js`, no TypeScript loader, so its peak RSS is the production process's) and
 * the hand-written baseline (under tsx) on it, drives both in alternation with autocannon, prints a
 * table and writes bench/results/latest.json (a `--quick` run: bench/results/quick.json, so the
 * full run's figures that docs/performance.md quotes stay).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon, { type Request } from 'autocannon';
import pg from 'pg';
import { encodeCursor } from '../src/http/cursor.js';
import { openPostgres } from '../src/db/postgres.js';
import { keysService } from '../src/modules/keys/keys.service.js';
import { generateDataset } from './dataset.js';
import { measureWebhookDelivery, type WebhookDeliveryResult } from './webhook-delivery.js';
import { runStreamBench } from './stream.js';
import { buildLede, LEDE_PRODUCTION_NODE_OPTIONS, LEDE_PRODUCTION_SCRIPT, type RunningServer, startServer } from './servers.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    articles: { type: 'string' },
    timeline: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    stream: { type: 'boolean', default: false },
    clients: { type: 'string', default: '2000' },
  },
});
const quick = values.quick ?? false;
const size = {
  articles: Number(values.articles ?? (quick ? 5_000 : 100_000)),
  timeline: Number(values.timeline ?? (quick ? 50_000 : 1_000_000)),
  tags: 200,
};
const duration = Number(values.duration ?? (quick ? 3 : 10));
const connections = Number(values.connections);
const WRITE_CONNECTIONS = 10;
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DATABASE = 'lede_bench';
const RESULTS_FILE = quick ? 'bench/results/quick.json' : 'bench/results/latest.json';

function databaseUrl(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freshDatabase(name = DATABASE): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  await admin.end();
  return databaseUrl(name);
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

interface Endpoint {
  name: string;
  /** Measured on the Lede with its response cache on, after one warm-up pass. */
  cached?: boolean;
  connections?: number;
  /** Requests count per operation (create+publish is two). */
  perOperation?: number;
  lede: Request[];
  baseline: Request[];
}

/** Fetches each URL the requests can produce once, so a cached run measures hits. */
async function warmUp(url: string, requests: Request[]): Promise<void> {
  await autocannon({ url, connections: 1, amount: HOT_ARTICLES * 3, requests });
}

/**
 * Each endpoint is driven in rounds, Lede and the baseline taking turns, so a drift in what else
 * the machine is doing falls on both alike; a round lasts duration / ROUNDS.
 */
const ROUNDS = 2;

async function measureOnce(url: string, requests: Request[], conns: number, perOperation: number): Promise<Measure> {
  const result = await autocannon({ url, connections: conns, duration: duration / ROUNDS, requests });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]));
  return { rps: result.requests.average / perOperation, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

/** Throughput and latencies averaged over the rounds; status counts summed. */
function combine(rounds: Measure[]): Measure {
  const mean = (pick: (m: Measure) => number) => rounds.reduce((sum, m) => sum + pick(m), 0) / rounds.length;
  const statuses: Record<string, number> = {};
  for (const round of rounds) for (const [code, count] of Object.entries(round.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  return { rps: Math.round(mean((m) => m.rps)), p50: Math.round(mean((m) => m.p50)), p99: Math.round(mean((m) => m.p99)), statuses };
}

const randomSlug = (request: Request) => ({ ...request, path: `${request.path}article-${1 + Math.floor(Math.random() * size.articles)}` });
const HOT_ARTICLES = 100;
const hotSlug = (request: Request) => ({ ...request, path: `${request.path}article-${1 + Math.floor(Math.random() * HOT_ARTICLES)}` });

async function main(): Promise<void> {
  buildLede();
  const started = Date.now();
  const url = await freshDatabase();
  const database = await openPostgres({ connectionString: url, poolMax: 2 });
  await database.migrate();
  await generateDataset(url, size);
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'Benchmark' });
  const { key: adminKey } = await keysService(database.db).create({ role: 'admin', name: 'Benchmark admin' });
  await database.close();
  process.stdout.write(`dataset ready in ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(size)}\n`);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const deep = await client.query(
    `select occurred_at, id from timeline_entries order by occurred_at desc, id desc offset ${Math.floor(size.timeline * 0.8)} limit 1`,
  );
  await client.end();
  const deepTime = (deep.rows[0].occurred_at as Date).toISOString();
  const deepId = deep.rows[0].id as string;

  const env = {
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    DEMO_CONTENT: 'false',
    RATE_LIMIT_MAX: '1000000000',
    DATABASE_POOL_MAX: '10',
    // Feeds link to the website's pages and the sitemaps exist, as in a newsroom's production.
    SITE_URL: 'https://news.example',
    // The webhook delivery measurement's receiver listens on loopback.
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
  };
  // Lede twice: without its response cache (held to the baseline) and with it (hot reads).
  const lede = await startServer('lede', LEDE_PRODUCTION_SCRIPT, 3201, { ...env, RESPONSE_CACHE_MB: '0' }, '/healthz');
  const cachedLede = await startServer('lede (cached)', LEDE_PRODUCTION_SCRIPT, 3203, env, '/healthz');
  const baseline = await startServer('baseline', 'bench/baseline-server.ts', 3202, env, '/timeline?limit=1');
  const etag = (await fetch(`${lede.url}/v1/articles/article-1`)).headers.get('etag') ?? '';
  const baselineEtag = (await fetch(`${baseline.url}/articles/article-1`)).headers.get('etag') ?? '';
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  const endpoints: Endpoint[] = [
    { name: 'article list', lede: [{ path: '/v1/articles?limit=20' }], baseline: [{ path: '/articles?limit=20' }] },
    {
      name: 'article by slug (random)',
      lede: [{ path: '/v1/articles/', setupRequest: randomSlug }],
      baseline: [{ path: '/articles/', setupRequest: randomSlug }],
    },
    { name: 'articles by tag', lede: [{ path: '/v1/articles?tag=tag-7&limit=20' }], baseline: [{ path: '/articles?tag=tag-7&limit=20' }] },
    { name: 'timeline first page', lede: [{ path: '/v1/timeline?limit=20' }], baseline: [{ path: '/timeline?limit=20' }] },
    {
      name: 'timeline 80% deep',
      lede: [{ path: `/v1/timeline?limit=20&cursor=${encodeCursor('timeline', [deepTime, deepId])}` }],
      baseline: [{ path: `/timeline?limit=20&beforeTime=${encodeURIComponent(deepTime)}&beforeId=${deepId}` }],
    },
    { name: 'timeline by day', lede: [{ path: '/v1/timeline?limit=20&groupBy=day' }], baseline: [{ path: '/timeline?limit=20' }] },
    { name: 'RSS feed', lede: [{ path: '/v1/feeds/articles.rss' }], baseline: [{ path: '/feed.rss' }] },
    {
      name: 'conditional GET (304)',
      lede: [{ path: '/v1/articles/article-1', headers: { 'if-none-match': etag } }],
      baseline: [{ path: '/articles/article-1', headers: { 'if-none-match': baselineEtag } }],
    },
    {
      name: 'article by slug (cached, 100 hot)',
      cached: true,
      lede: [{ path: '/v1/articles/', setupRequest: hotSlug }],
      baseline: [{ path: '/articles/', setupRequest: hotSlug }],
    },
    { name: 'timeline first page (cached)', cached: true, lede: [{ path: '/v1/timeline?limit=20' }], baseline: [{ path: '/timeline?limit=20' }] },
    { name: 'article list (cached)', cached: true, lede: [{ path: '/v1/articles?limit=20' }], baseline: [{ path: '/articles?limit=20' }] },
    { name: 'RSS feed (cached)', cached: true, lede: [{ path: '/v1/feeds/articles.rss' }], baseline: [{ path: '/feed.rss' }] },
    { name: 'sitemap index (cached)', cached: true, lede: [{ path: '/v1/sitemaps/index.xml' }], baseline: [{ path: '/sitemap-index.xml' }] },
    {
      name: 'create + publish',
      connections: WRITE_CONNECTIONS,
      perOperation: 2,
      lede: [
        {
          method: 'POST',
          path: '/v1/articles',
          headers: auth,
          body: JSON.stringify({ title: 'Benchmark article' }),
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ title: `Benchmark ${Math.random().toString(36).slice(2)}` }) }),
          onResponse: (_status, body, context) => {
            context.id = (JSON.parse(body) as { id: string }).id;
          },
        },
        {
          method: 'POST',
          headers: { authorization: auth.authorization, 'if-match': '"v1"' },
          setupRequest: (request, context) => ({ ...request, path: `/v1/articles/${String(context.id)}/publish` }),
        },
      ],
      baseline: [
        {
          method: 'POST',
          path: '/articles',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Benchmark article' }),
          onResponse: (_status, body, context) => {
            context.id = (JSON.parse(body) as { id: string }).id;
          },
        },
        { method: 'POST', setupRequest: (request, context) => ({ ...request, path: `/articles/${String(context.id)}/publish` }) },
      ],
    },
  ];

  const rows = [];
  let webhookDelivery: WebhookDeliveryResult | null = null;
  try {
    for (const endpoint of endpoints.filter((candidate) => !values.only || candidate.name.includes(values.only))) {
      const conns = endpoint.connections ?? connections;
      const perOp = endpoint.perOperation ?? 1;
      const target = endpoint.cached ? cachedLede : lede;
      if (endpoint.cached) await warmUp(target.url, endpoint.lede);
      const ledeRounds: Measure[] = [];
      const baselineRounds: Measure[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        ledeRounds.push(await measureOnce(target.url, endpoint.lede, conns, perOp));
        baselineRounds.push(await measureOnce(baseline.url, endpoint.baseline, conns, perOp));
      }
      const [ledeResult, baselineResult] = [combine(ledeRounds), combine(baselineRounds)];
      const ratio = baselineResult.rps > 0 ? Math.round((ledeResult.rps / baselineResult.rps) * 100) / 100 : null;
      rows.push({ endpoint: endpoint.name, lede: ledeResult, baseline: baselineResult, ratio });
      process.stdout.write(
        `${endpoint.name.padEnd(26)} lede ${String(ledeResult.rps).padStart(6)}/s p50 ${ledeResult.p50} p99 ${ledeResult.p99} ms ` +
          `| baseline ${String(baselineResult.rps).padStart(6)}/s p50 ${baselineResult.p50} p99 ${baselineResult.p99} ms | ratio ${ratio} ` +
          `| lede statuses ${JSON.stringify(ledeResult.statuses)}\n`,
      );
    }
    if (!values.only || 'webhook delivery'.includes(values.only)) {
      webhookDelivery = await measureWebhookDelivery(lede.url, { admin: adminKey, editor: key });
      process.stdout.write(
        `webhook delivery           ${webhookDelivery.received}/${webhookDelivery.events} events received; writes took ${webhookDelivery.writeSeconds} s, ` +
          `the last delivery came ${webhookDelivery.afterLastWriteSeconds} s after the last write (${webhookDelivery.totalSeconds} s from the first)\n`,
      );
    }
  } finally {
    const peak = { lede: peakOf(lede), ledeCached: peakOf(cachedLede), baseline: peakOf(baseline) };
    await Promise.all([lede.stop(), cachedLede.stop(), baseline.stop()]);
    const results = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      dataset: { ...size, durationSeconds: duration, connections },
      // Lede's figure is the `node dist/server.js` process alone; the baseline's includes tsx.
      started: { lede: `NODE_OPTIONS=${LEDE_PRODUCTION_NODE_OPTIONS} node ${LEDE_PRODUCTION_SCRIPT}`, baseline: 'node --import tsx bench/baseline-server.ts' },
      peakRssMb: peak,
      rows,
      webhookDelivery,
    };
    if (!values.only) writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(
      `peak RSS (node ${LEDE_PRODUCTION_SCRIPT}): lede ${peak.lede} MB, lede (cached) ${peak.ledeCached} MB; baseline (under tsx) ${peak.baseline} MB\n` +
        `${values.only ? `a partial run: ${RESULTS_FILE} left as it was` : `wrote ${RESULTS_FILE}`}\n`,
    );
  }
}

function peakOf(server: RunningServer): number {
  try {
    return server.peakRssMb();
  } catch {
    return 0;
  }
}

const run = values.stream ? async () => runStreamBench(await freshDatabase(`${DATABASE}_stream`), Number(values.clients)) : main;
run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
