/**
 * `npm run bench [-- --quick] [--articles N] [--timeline N] [--duration S] [--connections N] [--only TEXT] [--baseline-tags json|join|two]`
 * (`--only`: just the endpoints whose name contains TEXT, printed and not written anywhere)
 * `npm run bench -- --stream [--clients N]`: live event streams instead (bench/stream.ts).
 * `npm run bench -- --peers`: the run plus Directus and Strapi on its dataset (bench/peers/peers.ts).
 *
 * Builds Lede (`npm run build`), generates a dataset in PostgreSQL, starts bare Fastify
 * (bench/hello-world.ts), Lede as production does (`node dist/server.js`, no TypeScript loader,
 * so its peak RSS is the production process's; once without its response cache, once with it) and
 * the true-limit baseline (bench/baseline-server.ts, under tsx) on the same data. It checks that
 * the baseline answers each read with Lede's ids in Lede's order (and says whether the bytes are
 * the same), measures hello-world first, then drives each endpoint in rounds alternating Lede and
 * the baseline after two unmeasured seconds on each: reads with wrk (1 thread, 20 connections),
 * create + publish with autocannon (it needs the created id). Prints a table and writes bench/results/latest.json, a `--quick` run too
 * (its `dataset.quick` says so).
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
import { type EventCost, measureEventCost } from './event-cost.js';
import { measureWebhookDelivery, type WebhookDeliveryResult } from './webhook-delivery.js';
import { runStreamBench } from './stream.js';
import { installPeers, runPeers } from './peers/peers.js';
import { buildLede, LEDE_PRODUCTION_NODE_OPTIONS, LEDE_PRODUCTION_SCRIPT, type RunningServer, startServer } from './servers.js';
import { runWrk, type WrkOptions, wrkVersion } from './wrk.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    articles: { type: 'string' },
    timeline: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '20' },
    only: { type: 'string' },
    'baseline-tags': { type: 'string', default: 'two' },
    stream: { type: 'boolean', default: false },
    clients: { type: 'string', default: '2000' },
    peers: { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const size = {
  articles: Number(values.articles ?? (quick ? 5_000 : 100_000)),
  timeline: Number(values.timeline ?? (quick ? 50_000 : 1_000_000)),
  tags: 200,
};
/** Seconds per endpoint and server, split over the rounds. */
const duration = Number(values.duration ?? (quick ? 4 : 10));
const connections = Number(values.connections);
const WRK_THREADS = 1;
const WRITE_CONNECTIONS = 10;
/** Below this on hello-world, the generator (or the machine) is what a row would measure. */
const HELLO_WORLD_TARGET = 40_000;
/** How the baseline reads a list's tags (bench/baseline-server.ts): two statements, measured cheapest. */
const baselineTags = values['baseline-tags'] ?? 'two';
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DATABASE = 'lede_bench';
const RESULTS_FILE = 'bench/results/latest.json';

/**
 * Each endpoint is driven in rounds, Lede and the baseline taking turns, so a drift in what else
 * the machine is doing falls on both alike; a round lasts duration / ROUNDS (whole seconds: wrk).
 */
const ROUNDS = 2;
const roundSeconds = Math.max(1, Math.round(duration / ROUNDS));
/**
 * Unmeasured wrk before each read's rounds, on each server: the route's code compiled by the JIT
 * and its statement prepared on every pool connection, so the first row of a run (or of an
 * `--only` run) is not measured cold.
 */
const WARM_UP_SECONDS = 2;

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
  /** Milliseconds. */
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

type Generator = 'wrk' | 'autocannon';

interface Endpoint {
  name: string;
  kind: 'uncached' | 'cached' | 'write';
  /** A wrk read: the same path on both servers (the baseline serves Lede's paths). */
  path?: string;
  pick?: WrkOptions['pick'];
  headers?: (server: 'lede' | 'baseline') => Record<string, string>;
  /** A write: autocannon requests, `perOperation` requests per operation. */
  requests?: Request[];
  perOperation?: number;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

async function measureWrk(
  url: string,
  endpoint: Pick<Endpoint, 'path' | 'pick'>,
  headers: Record<string, string>,
  seconds = roundSeconds,
): Promise<Measure> {
  const result = await runWrk({ url, path: endpoint.path ?? '/', pick: endpoint.pick, headers, seconds, connections, threads: WRK_THREADS });
  const statuses: Record<string, number> = { '2xx/3xx': result.requests - result.non2xx3xx };
  if (result.non2xx3xx > 0) statuses.other = result.non2xx3xx;
  if (result.socketErrors > 0) statuses.socketErrors = result.socketErrors;
  return { rps: result.rps, p50: result.p50, p99: result.p99, statuses };
}

async function measureAutocannon(url: string, requests: Request[], perOperation: number, seconds = roundSeconds): Promise<Measure> {
  const result = await autocannon({ url, connections: WRITE_CONNECTIONS, duration: seconds, requests });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]));
  return { rps: result.requests.average / perOperation, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

/** Throughput and latencies averaged over the rounds; status counts summed. */
function combine(rounds: Measure[]): Measure {
  const mean = (pick: (m: Measure) => number) => rounds.reduce((sum, m) => sum + pick(m), 0) / rounds.length;
  const statuses: Record<string, number> = {};
  for (const round of rounds) for (const [code, count] of Object.entries(round.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  return { rps: Math.round(mean((m) => m.rps)), p50: round2(mean((m) => m.p50)), p99: round2(mean((m) => m.p99)), statuses };
}

const HOT_ARTICLES = 100;

/** Fetches every URL a cached row can ask for, twice, so the row measures hits. */
async function warmUp(url: string, endpoint: Endpoint): Promise<void> {
  const paths = endpoint.pick
    ? Array.from({ length: endpoint.pick.count }, (_, index) => `${endpoint.pick!.prefix}${index + 1}`)
    : [endpoint.path ?? '/'];
  for (let pass = 0; pass < 2; pass += 1) {
    for (const path of paths) await (await fetch(`${url}${path}`)).arrayBuffer();
  }
}

/** What identifies the rows of an answer: ids of JSON items, guids of feed items, sitemap locations. */
function idsOf(body: string, contentType: string): string[] {
  if (contentType.includes('json')) {
    const json = JSON.parse(body) as { id?: string; data?: { id: string }[]; days?: { entries: { id: string }[] }[] };
    if (json.data) return json.data.map((item) => item.id);
    if (json.days) return json.days.flatMap((day) => day.entries.map((entry) => entry.id));
    return json.id ? [json.id] : [];
  }
  return [...body.matchAll(/<(?:guid|loc)[^>]*>([^<]*)</g)].map((match) => match[1] ?? '');
}

interface Verified {
  path: string;
  ids: number;
  identicalBytes: boolean;
}

/** Fails loudly when the baseline answers a read with other rows than Lede's, or in another order. */
async function verifyBaseline(ledeUrl: string, baselineUrl: string, paths: string[]): Promise<Verified[]> {
  const checked: Verified[] = [];
  for (const path of paths) {
    const [lede, baseline] = await Promise.all([fetch(`${ledeUrl}${path}`), fetch(`${baselineUrl}${path}`)]);
    const [ledeBody, baselineBody] = await Promise.all([lede.text(), baseline.text()]);
    if (lede.status !== 200 || baseline.status !== 200) {
      throw new Error(`baseline check: ${path} answered ${lede.status} by Lede and ${baseline.status} by the baseline`);
    }
    const ledeIds = idsOf(ledeBody, lede.headers.get('content-type') ?? '');
    const baselineIds = idsOf(baselineBody, baseline.headers.get('content-type') ?? '');
    if (ledeIds.length === 0 || JSON.stringify(ledeIds) !== JSON.stringify(baselineIds)) {
      throw new Error(
        `baseline check: ${path} answers other rows than Lede's\n  lede:     ${ledeIds.join(' ')}\n  baseline: ${baselineIds.join(' ')}`,
      );
    }
    checked.push({ path, ids: ledeIds.length, identicalBytes: ledeBody === baselineBody });
  }
  return checked;
}

function peakOf(server: RunningServer | undefined): number | null {
  if (!server) return null;
  try {
    return server.peakRssMb();
  } catch {
    return null;
  }
}

function line(name: string, lede: Measure, baseline: Measure | null, ratio: number | null, generator: Generator): string {
  const figures = (m: Measure) => `${String(m.rps).padStart(6)}/s p50 ${m.p50} p99 ${m.p99} ms`;
  return (
    `${name.padEnd(34)} ${baseline ? 'lede ' : ''}${figures(lede)}` +
    (baseline ? ` | baseline ${figures(baseline)} | ratio ${ratio}` : '') +
    ` | ${generator} ${JSON.stringify(lede.statuses)}\n`
  );
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  const wrk = wrkVersion();
  if (!wrk) {
    process.stderr.write(
      'The benchmark drives reads with wrk, which is not installed (or not on PATH; BENCH_WRK names another binary).\n' +
        'On Debian or Ubuntu: apt-get install -y wrk\n',
    );
    process.exit(1);
  }
  if (values.peers) installPeers();
  buildLede();
  const started = Date.now();
  const url = await freshDatabase();
  const database = await openPostgres({ connectionString: url, poolMax: 2 });
  await database.migrate();
  await generateDataset(url, size);
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'Benchmark' });
  const { key: adminKey } = await keysService(database.db).create({ role: 'admin', name: 'Benchmark admin' });
  await database.close();
  const datasetSeconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`dataset ready in ${datasetSeconds} s: ${JSON.stringify(size)}\n`);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const deep = await client.query(
    `select occurred_at, id from timeline_entries order by occurred_at desc, id desc offset ${Math.floor(size.timeline * 0.8)} limit 1`,
  );
  await client.end();
  const deepCursor = encodeCursor('timeline', [(deep.rows[0].occurred_at as Date).toISOString(), deep.rows[0].id as string]);

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
  const servers: RunningServer[] = [];
  const start = async (...args: Parameters<typeof startServer>) => {
    const server = await startServer(...args);
    servers.push(server);
    return server;
  };
  const rows: {
    endpoint: string;
    kind: Endpoint['kind'];
    generator: Generator;
    lede: Measure;
    baseline: Measure;
    ratio: number | null;
  }[] = [];
  const peakRssMb: Record<string, number | null> = {};
  let helloWorld: Measure;
  let verified: Verified[];
  let webhookDelivery: WebhookDeliveryResult | null;
  let eventCost: EventCost<Measure> | null = null;
  try {
    // Hello-world first, alone on the machine, with the rows' generator and settings.
    const hello = await start('hello-world', 'bench/hello-world.ts', 3200, {}, '/');
    await measureWrk(hello.url, { path: '/' }, {}, WARM_UP_SECONDS);
    const helloRounds: Measure[] = [];
    for (let round = 0; round < ROUNDS; round += 1) helloRounds.push(await measureWrk(hello.url, { path: '/' }, {}));
    helloWorld = combine(helloRounds);
    process.stdout.write(line('hello-world (bare Fastify)', helloWorld, null, null, 'wrk'));
    if (helloWorld.rps < HELLO_WORLD_TARGET) {
      process.stdout.write(
        `WARNING: hello-world reached ${helloWorld.rps} req/s, under ${HELLO_WORLD_TARGET}: the load generator or the machine ` +
          'may be what the rows measure (anything else running?)\n',
      );
    }
    peakRssMb.helloWorld = peakOf(hello);
    await hello.stop();

    // Lede twice: without its response cache (held to the baseline) and with it (hot reads).
    const lede = await start('lede', LEDE_PRODUCTION_SCRIPT, 3201, { ...env, RESPONSE_CACHE_MB: '0' }, '/healthz');
    const cachedLede = await start('lede (cached)', LEDE_PRODUCTION_SCRIPT, 3203, env, '/healthz');
    const baseline = await start('baseline', 'bench/baseline-server.ts', 3202, { ...env, BASELINE_LIST_TAGS: baselineTags }, '/healthz');
    const ledeEtag = (await fetch(`${lede.url}/v1/articles/article-1`)).headers.get('etag') ?? '';
    const baselineEtag = (await fetch(`${baseline.url}/v1/articles/article-1`)).headers.get('etag') ?? '';
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    verified = await verifyBaseline(lede.url, baseline.url, [
      '/v1/articles?limit=20',
      '/v1/articles?tag=tag-7&limit=20',
      '/v1/articles/article-1',
      `/v1/articles/article-${size.articles}`,
      '/v1/timeline?limit=20',
      `/v1/timeline?limit=20&cursor=${deepCursor}`,
      '/v1/timeline?limit=20&groupBy=day',
      '/v1/feeds/articles.rss',
      '/v1/sitemaps/index.xml',
    ]);
    process.stdout.write(
      `baseline answers Lede's rows: ${verified.map((check) => `${check.path} (${check.ids}${check.identicalBytes ? ', same bytes' : ''})`).join(', ')}\n`,
    );
    // The peers before the rows: the write rows add articles to Lede's database that the peers would not have.
    if (values.peers) {
      await runPeers({
        adminUrl,
        ledeDatabase: DATABASE,
        size,
        quick,
        ledeUrl: lede.url,
        baselineUrl: baseline.url,
        deepCursor,
        deepBefore: (deep.rows[0].occurred_at as Date).toISOString(),
        measure: (serverUrl, read, seconds) => measureWrk(serverUrl, read, {}, seconds),
        combine,
        rounds: ROUNDS,
        roundSeconds,
        warmUpSeconds: WARM_UP_SECONDS,
        helloWorld,
        loadGenerator: `${wrk} -t${WRK_THREADS} -c${connections} (Lua done() for p50/p99)`,
        only: values.only,
        ledeStarted: `RESPONSE_CACHE_MB=0 NODE_OPTIONS=${LEDE_PRODUCTION_NODE_OPTIONS} node ${LEDE_PRODUCTION_SCRIPT}`,
        baselineStarted: `BASELINE_LIST_TAGS=${baselineTags} node --import tsx bench/baseline-server.ts`,
      });
    }

    const endpoints: Endpoint[] = [
      { name: 'article list', kind: 'uncached', path: '/v1/articles?limit=20' },
      { name: 'article by slug (random)', kind: 'uncached', path: '/v1/articles/article-1', pick: { prefix: '/v1/articles/article-', count: size.articles } },
      { name: 'articles by tag', kind: 'uncached', path: '/v1/articles?tag=tag-7&limit=20' },
      { name: 'timeline first page', kind: 'uncached', path: '/v1/timeline?limit=20' },
      { name: 'timeline 80% deep', kind: 'uncached', path: `/v1/timeline?limit=20&cursor=${deepCursor}` },
      { name: 'timeline by day', kind: 'uncached', path: '/v1/timeline?limit=20&groupBy=day' },
      { name: 'RSS feed', kind: 'uncached', path: '/v1/feeds/articles.rss' },
      {
        name: 'conditional GET (304)',
        kind: 'uncached',
        path: '/v1/articles/article-1',
        headers: (server) => ({ 'if-none-match': server === 'lede' ? ledeEtag : baselineEtag }),
      },
      { name: 'article by slug (cached, 100 hot)', kind: 'cached', path: '/v1/articles/article-1', pick: { prefix: '/v1/articles/article-', count: HOT_ARTICLES } },
      { name: 'timeline first page (cached)', kind: 'cached', path: '/v1/timeline?limit=20' },
      { name: 'article list (cached)', kind: 'cached', path: '/v1/articles?limit=20' },
      { name: 'RSS feed (cached)', kind: 'cached', path: '/v1/feeds/articles.rss' },
      { name: 'sitemap index (cached)', kind: 'cached', path: '/v1/sitemaps/index.xml' },
      {
        name: 'create + publish',
        kind: 'write',
        perOperation: 2,
        requests: [
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
      },
    ];

    const selected = endpoints.filter((candidate) => !values.only || candidate.name.includes(values.only));
    for (const endpoint of selected) {
      const target = endpoint.kind === 'cached' ? cachedLede : lede;
      if (endpoint.kind === 'cached') await warmUp(target.url, endpoint);
      const generator: Generator = endpoint.requests ? 'autocannon' : 'wrk';
      const measure = (server: RunningServer, which: 'lede' | 'baseline') =>
        endpoint.requests
          ? measureAutocannon(server.url, endpoint.requests, endpoint.perOperation ?? 1)
          : measureWrk(server.url, endpoint, endpoint.headers?.(which) ?? {});
      if (!endpoint.requests) {
        await measureWrk(target.url, endpoint, endpoint.headers?.('lede') ?? {}, WARM_UP_SECONDS);
        await measureWrk(baseline.url, endpoint, endpoint.headers?.('baseline') ?? {}, WARM_UP_SECONDS);
      }
      const ledeRounds: Measure[] = [];
      const baselineRounds: Measure[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        ledeRounds.push(await measure(target, 'lede'));
        baselineRounds.push(await measure(baseline, 'baseline'));
      }
      const [ledeResult, baselineResult] = [combine(ledeRounds), combine(baselineRounds)];
      const ratio = baselineResult.rps > 0 ? round2(ledeResult.rps / baselineResult.rps) : null;
      rows.push({ endpoint: endpoint.name, kind: endpoint.kind, generator, lede: ledeResult, baseline: baselineResult, ratio });
      process.stdout.write(line(endpoint.name, ledeResult, baselineResult, ratio, generator));
    }
    const writes = selected.find((endpoint) => endpoint.kind === 'write');
    if (writes?.requests) {
      const measureWrites = (seconds: number) => measureAutocannon(lede.url, writes.requests!, writes.perOperation ?? 1, seconds);
      eventCost = await measureEventCost(url, measureWrites, combine, roundSeconds);
      process.stdout.write(
        `${writes.name}, events written / not written: ${eventCost.withEvents.rps} / ${eventCost.withoutEvents.rps} op/s = ${eventCost.ratio} ` +
          `(target at least 0.9; ${eventCost.rounds} alternating rounds of ${eventCost.roundSeconds} s)\n`,
      );
    }
    webhookDelivery = null;
    if (!values.only || 'webhook delivery'.includes(values.only)) {
      webhookDelivery = await measureWebhookDelivery(lede.url, { admin: adminKey, editor: key });
      process.stdout.write(
        `webhook delivery                   ${webhookDelivery.received}/${webhookDelivery.events} events received; writes took ${webhookDelivery.writeSeconds} s, ` +
          `the last delivery came ${webhookDelivery.afterLastWriteSeconds} s after the last write (${webhookDelivery.totalSeconds} s from the first)\n`,
      );
    }
    peakRssMb.baseline = peakOf(baseline);
    peakRssMb.lede = peakOf(lede);
    peakRssMb.ledeCached = peakOf(cachedLede);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  const timelineRow = rows.find((row) => row.endpoint === 'timeline first page');
  const timelineOverHelloWorld = timelineRow ? Math.round((timelineRow.baseline.rps / helloWorld.rps) * 1000) / 1000 : null;
  const results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    dataset: { ...size, quick, durationSeconds: duration, rounds: ROUNDS, connections, writeConnections: WRITE_CONNECTIONS, datasetSeconds },
    loadGenerator: {
      reads: `${wrk} -t${WRK_THREADS} -c${connections} (Lua done() for p50/p99)`,
      writes: `autocannon -c${WRITE_CONNECTIONS} (create + publish needs the created id)`,
    },
    helloWorld,
    helloWorldTarget: HELLO_WORLD_TARGET,
    rows,
    /** The baseline's timeline first page as a fraction of hello-world (issue 16: at least 0.12). */
    timelineFirstPageOverHelloWorld: timelineOverHelloWorld,
    baseline: { listTags: baselineTags, verified },
    // Lede's figures are the `node dist/server.js` processes alone; the others run under tsx.
    started: {
      helloWorld: 'node --import tsx bench/hello-world.ts',
      lede: `NODE_OPTIONS=${LEDE_PRODUCTION_NODE_OPTIONS} node ${LEDE_PRODUCTION_SCRIPT}`,
      baseline: `BASELINE_LIST_TAGS=${baselineTags} node --import tsx bench/baseline-server.ts`,
    },
    peakRssMb,
    eventCost,
    webhookDelivery,
    runSeconds: Math.round((Date.now() - runStarted) / 1000),
  };
  if (!values.only) writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `timeline first page (baseline) / hello-world: ${timelineOverHelloWorld} (target at least 0.12)\n` +
      `peak RSS (MB): ${Object.entries(peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', ')} ` +
      `(lede: node ${LEDE_PRODUCTION_SCRIPT}; hello-world and baseline under tsx)\n` +
      `${values.only ? `a partial run: ${RESULTS_FILE} left as it was` : `wrote ${RESULTS_FILE}`} after ${results.runSeconds} s\n`,
  );
}

const run = values.stream ? async () => runStreamBench(await freshDatabase(`${DATABASE}_stream`), Number(values.clients)) : main;
run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
