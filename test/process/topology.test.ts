import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { parse } from 'yaml';
import { replicaName } from '../../src/db/replicas.js';
import { baseEnv, buildServer, ROOT, type BuiltServer } from './built-server.js';
import { findPostgres, freePort, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.js';
import { sleep, until } from './waiting.js';

/**
 * The scale-out topology of docker-compose.yml, on this machine: a throwaway PostgreSQL primary
 * and a streaming replica of it, two compiled Lede processes (node <build>/server.js) with the
 * environment of the compose file's api-1 and api-2 (service host names and ports replaced by
 * the throwaway ones), and nginx in front, configured from deploy/nginx/lede.conf.template as the
 * nginx image would render it. Requests go through nginx unless a check needs one node.
 * Skips, saying why, without PostgreSQL server binaries or nginx.
 */
t.setTimeout(480_000);

const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const NGINX_TEMPLATE = join(ROOT, 'deploy/nginx/lede.conf.template');
const START_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 20_000;
/** Concurrent request loops through nginx while a node is killed. */
const LOOPS = 6;

function findNginx(): string | { skip: string } {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, 'nginx'), constants.X_OK);
      return join(dir, 'nginx');
    } catch {
      // Not there.
    }
  }
  return { skip: 'no nginx on the PATH or in /usr/sbin (.ci/run installs it)' };
}

const found = findPostgres();
const nginxBin = findNginx();
if ('skip' in found) {
  t.pass(`skipped: ${found.skip}`);
} else if (typeof nginxBin !== 'string') {
  t.pass(`skipped: ${nginxBin.skip}`);
} else {
  // A failure while setting up fails the test, and the teardowns still stop what was started.
  await runTopology(found.binDir, found.runAs, nginxBin).catch((error: unknown) => t.fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Running {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  output(): string;
  /** Ends the whole process group (nginx's workers with their master). */
  kill(signal: NodeJS.Signals): void;
}

/** Spawns in its own process group; killed by the teardown, or when this process exits first. */
function run(name: string, command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  let output = '';
  let running = true;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => kill('SIGKILL');
  process.once('exit', onExit);
  t.teardown(async () => {
    process.removeListener('exit', onExit);
    if (!running) return;
    kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(EXIT_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      kill('SIGKILL');
      await Promise.race([exited, sleep(EXIT_TIMEOUT_MS)]);
    }
  });
  return { name, child, exited, isRunning: () => running, output: () => output, kill };
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function call(port: number, path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (metrics).
  }
  return { status: response.status, headers: response.headers, text, body };
}

async function ok(port: number, path: string, init: Parameters<typeof call>[2] = {}): Promise<Answer> {
  const answer = await call(port, path, init);
  if (answer.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path} on :${port}: ${answer.status} ${answer.text}`);
  return answer;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A counter's value in a node's /metrics (0 while it has no such line). */
async function metric(port: number, name: string, labels: string): Promise<number> {
  const { text } = await ok(port, '/metrics');
  const line = new RegExp(`^${escapeRegExp(name)}\\{${escapeRegExp(labels)}\\} `);
  const match = text.split('\n').find((entry) => line.test(entry));
  return match ? Number(match.split(' ').at(-1)) : 0;
}

// ---------------------------------------------------------------------------------------------
// The compose file and the nginx template

type ComposeEnvironment = Record<string, string | number | boolean | null> | string[];
interface ComposeFile {
  services: Record<string, { environment?: ComposeEnvironment }>;
}

function environmentOf(service: string): Record<string, string> {
  const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
  const environment = compose.services[service]?.environment;
  if (!environment) throw new Error(`docker-compose.yml has no environment for ${service}`);
  const entries = Array.isArray(environment)
    ? environment.map((item) => {
        const at = item.indexOf('=');
        return [item.slice(0, at), item.slice(at + 1)] as const;
      })
    : Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries);
}

/**
 * A compose api service's environment for a process on this machine: each compose host:port
 * (the database services, and the balancer's published port) becomes the throwaway one; the
 * node listens on its own port on 127.0.0.1; the balancer is on loopback here, not on the
 * compose network's private addresses. Anything else is the compose file's, word for word.
 */
function nodeEnvironment(service: string, hosts: Record<string, string>, port: number): Record<string, string> {
  const env = environmentOf(service);
  const pattern = new RegExp(Object.keys(hosts).map(escapeRegExp).join('|'), 'g');
  for (const [name, value] of Object.entries(env)) env[name] = value.replace(pattern, (hostPort) => hosts[hostPort]!);
  env.PORT = String(port);
  env.HOST = '127.0.0.1';
  if (env.TRUST_PROXY !== undefined) env.TRUST_PROXY = 'loopback';
  const left = Object.entries(env).find(([, value]) => /postgres-|api-\d|nginx/.test(value));
  if (left) throw new Error(`${service}'s ${left[0]} names a compose host the test does not replace: ${left[1]}`);
  return env;
}

/** The template with its ${NAME} placeholders replaced, as the nginx image's envsubst step does. */
function renderTemplate(values: Record<string, string>): string {
  return readFileSync(NGINX_TEMPLATE, 'utf8').replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the nginx template uses \${${name}}, which the test does not set`);
    return value;
  });
}

// ---------------------------------------------------------------------------------------------

async function runTopology(binDir: string, runAs: string | null, nginx: string): Promise<void> {
  const began = Date.now();
  const built: BuiltServer = await buildServer('topology');
  t.teardown(() => built.remove());
  t.comment(`built in ${((Date.now() - began) / 1000).toFixed(1)} s`);

  const primary: ThrowawayPostgres = await startThrowawayPostgres(binDir, runAs);
  t.teardown(() => primary.destroy());
  // The replica first: pg_basebackup waits for a spread checkpoint, which a freshly written
  // database (CREATE DATABASE dirties a whole template's pages) would stretch over minutes.
  const replica: ThrowawayPostgres = await startThrowawayPostgres(binDir, runAs, primary);
  t.teardown(() => replica.destroy());
  // What the postgres image makes of POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB; the
  // replica replays it.
  const admin = new pg.Client({ connectionString: primary.url('postgres') });
  await admin.connect();
  await admin.query(`create role lede login superuser password 'lede'`);
  await admin.query('create database lede owner lede');
  await admin.end();

  const ports = { api1: await freePort(), api2: await freePort(), nginx: await freePort() };
  const hosts = {
    'postgres-primary:5432': `127.0.0.1:${primary.port}`,
    'postgres-replica:5432': `127.0.0.1:${replica.port}`,
    'localhost:3000': `127.0.0.1:${ports.nginx}`,
  };
  // Only what the test needs on top: quieter logs, and no rate limit for the request loops.
  const extra = { LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', NODE_ENV: 'production' };
  const env1: Record<string, string> = { ...nodeEnvironment('api-1', hosts, ports.api1), ...extra };
  const env2: Record<string, string> = { ...nodeEnvironment('api-2', hosts, ports.api2), ...extra };
  const primaryUrl = env1.DATABASE_URL!;
  const replicaLabel = replicaName(env1.DATABASE_READ_URLS!);

  // Both at once on an empty database, as `docker compose up` starts them.
  const server = join(built.dir, 'server.js');
  const node1 = run('api-1', process.execPath, [server], env1);
  const node2 = run('api-2', process.execPath, [server], env2);
  const nodes = [
    { running: node1, port: ports.api1 },
    { running: node2, port: ports.api2 },
  ];
  await Promise.all(
    nodes.map(({ running, port }) =>
      until(
        `${running.name} to be ready`,
        async () => {
          if (!running.isRunning()) throw new Error(`${running.name} exited before it was ready:\n${running.output()}`);
          return (await call(port, '/readyz').catch(() => null))?.status === 200;
        },
        START_TIMEOUT_MS,
      ),
    ),
  );
  const replicaState = async (port: number) =>
    ((await ok(port, '/readyz')).body as { replicas: { name: string; state: string }[] }).replicas.find((entry) => entry.name === replicaLabel)?.state;
  const replicaUpOnBoth = () => Promise.all(nodes.map(async ({ port }) => until(`the replica up on :${port}`, async () => (await replicaState(port)) === 'up')));
  await replicaUpOnBoth();

  const nginxDir = mkdtempSync(join(tmpdir(), 'lede-nginx-'));
  t.teardown(() => rmSync(nginxDir, { recursive: true, force: true }));
  // Under root nginx's workers run as an unprivileged user, who writes its temp files in here.
  chmodSync(nginxDir, 0o755);
  writeFileSync(
    join(nginxDir, 'lede.conf'),
    renderTemplate({ LEDE_API_1: `127.0.0.1:${ports.api1}`, LEDE_API_2: `127.0.0.1:${ports.api2}`, NGINX_PORT: `127.0.0.1:${ports.nginx}` }),
  );
  writeFileSync(
    join(nginxDir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${nginxDir}/nginx.pid;`,
      `error_log ${nginxDir}/error.log notice;`,
      'events { worker_connections 1024; }',
      'http {',
      `  log_format upstreams '$request $status upstream=$upstream_addr upstream_status=$upstream_status';`,
      `  access_log ${nginxDir}/access.log upstreams;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${nginxDir}/${kind}_temp;`),
      `  include ${nginxDir}/lede.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const balancer = run('nginx', nginx, ['-c', join(nginxDir, 'nginx.conf'), '-p', `${nginxDir}/`, '-e', join(nginxDir, 'error.log')], {});
  const nginxLog = (file: string) => {
    try {
      return readFileSync(join(nginxDir, file), 'utf8');
    } catch {
      return '';
    }
  };
  await until('nginx to answer', async () => {
    if (!balancer.isRunning()) throw new Error(`nginx exited:\n${balancer.output()}\n${nginxLog('error.log')}`);
    return (await call(ports.nginx, '/healthz').catch(() => null))?.status === 200;
  });
  const lb = ports.nginx;
  t.comment(`topology up ${((Date.now() - began) / 1000).toFixed(1)} s after the start`);

  const created = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [join(built.dir, 'cli/keys.js'), 'create', '--role', 'editor', '--name', 'topology'],
      { cwd: ROOT, env: { ...baseEnv(), DATABASE_URL: primaryUrl }, timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => (error ? reject(new Error(`keys.js create failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  const key = created.trim().split('\n').at(-1)!;
  const editor = { authorization: `Bearer ${key}` };

  let searches = 0;
  /** An anonymous read that misses every response cache: a search nobody made before. */
  const uncachedPath = () => `/v1/articles?q=topology${searches++}`;
  const publishNew = async (port: number, title: string, publishBody: Record<string, unknown> = {}) => {
    const draft = (await ok(port, '/v1/articles', { method: 'POST', headers: editor, json: { title } })).body as { id: string; version: number };
    const published = await ok(port, `/v1/articles/${draft.id}/publish`, {
      method: 'POST',
      headers: { ...editor, 'if-match': `"v${draft.version}"` },
      json: publishBody,
    });
    return published.body as { id: string; slug: string; version: number; status: string; title: string };
  };

  await t.test('two nodes started together on an empty database: migrated once, the demo content loaded once', async (t) => {
    const seedSlug = (JSON.parse(readFileSync(join(ROOT, 'src/db/demo/seed-article.json'), 'utf8')) as { article: { slug: string } }).article.slug;
    const seedTitles = new Set((JSON.parse(readFileSync(join(ROOT, 'src/db/demo/seed-timeline.json'), 'utf8')) as { entries: { title: string }[] }).entries.map((entry) => entry.title));
    const articles = (await ok(lb, '/v1/articles?limit=100', { headers: editor })).body.data as { slug: string }[];
    t.equal(articles.filter((article) => article.slug === seedSlug).length, 1, 'one demo article');
    const entries = (await ok(lb, '/v1/timeline?limit=100', { headers: editor })).body.data as { title: string }[];
    t.equal(entries.filter((entry) => seedTitles.has(entry.title)).length, seedTitles.size, 'each demo timeline entry once');
    t.ok(node1.isRunning() && node2.isRunning(), 'both nodes running');
  });

  await t.test('anonymous reads are served by the replica, on both nodes', async (t) => {
    const label = `target="${replicaLabel}"`;
    const before = await Promise.all(nodes.map(({ port }) => metric(port, 'lede_db_anonymous_reads_total', label)));
    const counts = [...before];
    await until('replica reads on both nodes', async () => {
      const answer = await call(lb, uncachedPath());
      if (answer.status !== 200) throw new Error(`anonymous read through nginx: ${answer.status} ${answer.text}`);
      for (const [index, { port }] of nodes.entries()) counts[index] = await metric(port, 'lede_db_anonymous_reads_total', label);
      return counts.every((count, index) => count > before[index]!);
    });
    t.ok(counts.every((count, index) => count > before[index]!), `lede_db_anonymous_reads_total{${label}}: api-1 ${before[0]} → ${counts[0]}, api-2 ${before[1]} → ${counts[1]}`);
  });

  await t.test('an editor reads her write at once, and a live stream through nginx tells of it', async (t) => {
    const controller = new AbortController();
    t.teardown(() => controller.abort());
    const stream = await fetch(`http://127.0.0.1:${lb}/v1/events/stream?types=article.published`, { signal: controller.signal });
    t.equal(stream.status, 200);
    t.match(stream.headers.get('content-type'), /^text\/event-stream/);
    let received = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream.body!) received += decoder.decode(chunk as Uint8Array, { stream: true });
    })().catch(() => {});

    const article = await publishNew(lb, 'Written through the balancer');
    t.equal(article.status, 'published');
    const keyed = await call(lb, `/v1/articles/${article.id}`, { headers: editor });
    t.equal(keyed.status, 200, 'the editor reads it through nginx at once');
    t.equal(keyed.body.version, article.version, 'the published version');
    t.equal(keyed.body.status, 'published');
    // Two in a row: nginx's round robin puts one on each node.
    for (let i = 0; i < 2; i++) {
      const anonymous = await call(lb, `/v1/articles/${article.slug}`);
      t.equal(anonymous.status, 200, `an anonymous read right after publishing (${i + 1})`);
    }

    await until('the article.published event on the stream through nginx', () => received.includes(`"id":"${article.id}"`));
    t.match(received, /event: article\.published/);
    controller.abort();
    await reading;
  });

  await t.test("a write on one node empties the other's cache (LISTEN/NOTIFY)", async (t) => {
    await until("api-2's /v1/articles cached", async () => (await ok(ports.api2, '/v1/articles')).headers.get('x-cache') === 'hit');
    const article = await publishNew(ports.api1, 'Written on api-1');
    let seenAfter = 0;
    await until('api-2 to list the article written on api-1', async () => {
      seenAfter += 1;
      const list = await ok(ports.api2, '/v1/articles');
      return (list.body.data as { id: string }[]).some((entry) => entry.id === article.id);
    });
    t.pass(`api-2 listed it (after ${seenAfter} anonymous read${seenAfter === 1 ? '' : 's'})`);
  });

  await t.test('a scheduled article goes live on both nodes, announced once', async (t) => {
    const publishAt = new Date(Date.now() + 4_000);
    const article = await publishNew(lb, 'Scheduled across nodes', { publishAt: publishAt.toISOString() });
    t.equal(article.status, 'scheduled');
    await until(
      'both nodes to serve the scheduled article',
      async () => (await Promise.all(nodes.map(({ port }) => call(port, `/v1/articles/${article.slug}`)))).every((answer) => answer.status === 200),
    );
    t.ok(Date.now() >= publishAt.getTime(), 'served once its time had come');
    for (const { running, port } of nodes) {
      const answer = await call(port, `/v1/articles/${article.slug}`);
      t.equal(answer.body.status, 'published', `${running.name} serves it published`);
    }
    // Both schedulers looked when it was due; a second announcement would be in the log by now.
    await sleep(2_000);
    const events = await ok(lb, '/v1/events?types=article.published&limit=500', { headers: editor });
    const announced = (events.body.data as { type: string; data: { id: string } }[]).filter((event) => event.data.id === article.id);
    t.equal(announced.length, 1, 'exactly one article.published');
  });

  await t.test('a stopped replica costs no failed request', async (t) => {
    const statuses = new Map<string, number>();
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const outcome = await call(lb, uncachedPath()).then(
          (answer) => String(answer.status),
          (error: Error) => error.message,
        );
        statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
      }
    };
    const traffic = Promise.all([loop(), loop()]);
    await sleep(500);
    const primaryBefore = (await Promise.all(nodes.map(({ port }) => metric(port, 'lede_db_anonymous_reads_total', 'target="primary"')))).reduce((a, b) => a + b, 0);
    await replica.stop();
    await Promise.all(nodes.map(({ port }) => until(`the replica reported down on :${port}`, async () => (await replicaState(port)) === 'down')));
    await sleep(500);
    stop = true;
    await traffic;
    const primaryAfter = (await Promise.all(nodes.map(({ port }) => metric(port, 'lede_db_anonymous_reads_total', 'target="primary"')))).reduce((a, b) => a + b, 0);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    t.same([...statuses.keys()], ['200'], `every one of ${total} anonymous reads through nginx answered 200 (${JSON.stringify([...statuses])})`);
    t.ok(primaryAfter > primaryBefore, 'reads went to the primary');

    await replica.start();
    await replicaUpOnBoth();
  });

  await t.test(`a killed node costs no request beyond those in flight on it (${LOOPS} request loops)`, async (t) => {
    const outcomes = new Map<string, number>();
    let stop = false;
    let sent = 0;
    const loop = async (index: number) => {
      for (let i = 0; !stop; i++) {
        // Reads that miss the cache, cached reads and keyed reads (on the primary).
        const path = i % 3 === 0 ? uncachedPath() : i % 3 === 1 ? '/v1/articles' : '/v1/articles?limit=5';
        const headers: Record<string, string> = index % 2 === 0 ? {} : editor;
        sent += 1;
        const outcome = await call(lb, path, { headers }).then(
          (answer) => String(answer.status),
          (error: Error) => `error: ${error.message}`,
        );
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    };
    const traffic = Promise.all(Array.from({ length: LOOPS }, (_, index) => loop(index)));
    await sleep(1_500);
    node2.kill('SIGKILL');
    await node2.exited;
    await sleep(2_000);
    stop = true;
    await traffic;
    const failed = [...outcomes].filter(([outcome]) => !/^2\d\d$/.test(outcome)).reduce((sum, [, count]) => sum + count, 0);
    const detail = `${failed} of ${sent} requests failed (${JSON.stringify([...outcomes])})`;
    t.ok(failed <= LOOPS, `at most one failed request per loop: ${detail}`);
    t.equal(failed, 0, `none, since nginx retries a GET on the other node: ${detail}`);
    const after = await call(lb, uncachedPath());
    t.equal(after.status, 200, 'api-1 answers alone');
    // $upstream_addr lists every node a request was sent to: "api-2, api-1" is a retry.
    const retried = nginxLog('access.log').split('\n').filter((line) => line.includes(`upstream=127.0.0.1:${ports.api2}, `)).length;
    t.comment(`${retried} requests failed on api-2 (in flight, or refused) and were answered by api-1`);
  });

  const errors = node1.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
  t.same(errors, [], 'api-1 logged no error');
  t.notMatch(nginxLog('error.log'), /\[(emerg|alert|crit)\]/, 'nginx logged nothing critical');
  t.comment(`the topology test took ${((Date.now() - began) / 1000).toFixed(1)} s`);
}
