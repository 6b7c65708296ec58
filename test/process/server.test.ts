import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { openStream } from '../events/sse-client.js';
import { freePort } from './throwaway-postgres.js';
import { sleep, within } from './waiting.js';

/**
 * The real process: `node --import tsx src/server.ts` and the keys CLI, as an operator runs them.
 * Creating a PGlite data directory costs several seconds (reopening one, much less), so the tests
 * after the first run one after another on one data directory, and the shutdown tests use the
 * key made by the CLI test (which also proves such a key works over HTTP). Every wait has a
 * deadline, and every child is killed when the file ends.
 */
t.setTimeout(300_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEY_SHAPE = /^lede_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
const START_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 20_000;
const RESPONSE_TIMEOUT_MS = 15_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Only what a process needs: tap's own NODE_OPTIONS hooks must not leak into the server. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'NODE_EXTRA_CA_CERTS']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function tempDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'lede-process-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}


interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout has a line matching the pattern; rejects if the process exits first. */
  waitForOutput(pattern: RegExp, ms: number): Promise<void>;
}

/** Spawns in its own process group, so a timeout can end npm and everything it started. */
function run(t: Test, command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  const pid = child.pid;
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  t.teardown(async () => {
    if (done) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await within(exited, EXIT_TIMEOUT_MS, `${command} to die after SIGKILL`).catch(() => {});
  });
  return {
    child,
    pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(pattern, ms) {
      const seen = new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            clearInterval(poll);
            resolve();
          } else if (done) {
            clearInterval(poll);
            reject(new Error(`exited before printing ${pattern}; stderr: ${err}`));
          }
        };
        const poll = setInterval(check, 25);
        check();
      });
      return within(seen, ms, `output ${pattern}`);
    },
  };
}

/**
 * The keys CLI through `npm run -s keys`, as documented; `direct` skips npm and the tsx launcher
 * (two extra processes, a second or two each on a busy machine) for the runs that test the CLI's
 * behaviour rather than its npm script.
 */
async function runCli(
  t: Test,
  args: string[],
  env: Record<string, string>,
  { direct = false } = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const cli = direct
    ? run(t, process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', ...args], env)
    : run(t, 'npm', ['run', '-s', 'keys', '--', ...args], env);
  const exit = await within(cli.exited, CLI_TIMEOUT_MS, `keys ${args.join(' ')}`);
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

function serverEnv(port: number, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', DEMO_CONTENT: 'false', ...extra };
}

async function startServer(t: Test, env: Record<string, string>): Promise<Running> {
  const server = run(t, process.execPath, ['--import', 'tsx', 'src/server.ts'], env);
  await server.waitForOutput(/"msg":"Server listening at /, START_TIMEOUT_MS);
  return server;
}

/** A GET on a fresh connection that is closed afterwards (no keep-alive left behind). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const request = new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
  return within(request, RESPONSE_TIMEOUT_MS, `GET ${path}`);
}

/** Resolves once the port refuses connections: the server has stopped listening. */
async function refusesConnections(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return true;
    await sleep(25);
  }
  return false;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 client for one request whose body is sent in two parts, on our schedule. */
function rawRequest(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  /** The response once its whole body (per Content-Length) has arrived; null if not yet. */
  const parse = (): RawResponse | null => {
    const end = received.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const [statusLine, ...headerLines] = received.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length']);
    const body = received.subarray(end + 4);
    if (!Number.isInteger(length) || body.length < length) return null;
    return { status: Number(statusLine?.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') };
  };
  return {
    connected,
    socket,
    receivedBytes: () => received.length,
    write: (text: string) => new Promise<void>((resolve, reject) => socket.write(text, (error) => (error ? reject(error) : resolve()))),
    response(ms: number): Promise<RawResponse> {
      const complete = new Promise<RawResponse>((resolve, reject) => {
        const check = () => {
          const parsed = parse();
          if (parsed) {
            cleanup();
            resolve(parsed);
          }
        };
        const closed = () => {
          cleanup();
          const parsed = parse();
          if (parsed) resolve(parsed);
          else reject(new Error(`connection closed after ${received.length} bytes without a complete response`));
        };
        const cleanup = () => {
          socket.off('data', check);
          socket.off('close', closed);
        };
        socket.on('data', check);
        socket.on('close', closed);
        check();
      });
      return within(complete, ms, 'a complete HTTP response');
    },
  };
}

t.test('an invalid configuration stops the process with one line per problem', async (t) => {
  const dataDir = tempDataDir(t);
  const server = run(t, process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    ...serverEnv(0, dataDir),
    PORT: 'abc',
    TIMEZONE: 'Mars/Olympus',
  });
  const exit = await within(server.exited, START_TIMEOUT_MS, 'the process to exit');
  t.same(exit, { code: 1, signal: null });

  const lines = server.stderr().split('\n').filter((line) => line.trim() !== '');
  t.match(lines[0], /configuration is invalid/);
  const problems = lines.slice(1).map((line) => line.trim());
  t.equal(problems.length, 2, 'exactly one line per problem');
  t.match(problems.find((line) => line.startsWith('PORT:')), /^PORT: must be a port number .*"abc"/);
  t.match(problems.find((line) => line.startsWith('TIMEZONE:')), /^TIMEZONE: must be an IANA time zone .*"Mars\/Olympus"/);
  t.notMatch(server.stderr(), /\n\s+at /, 'no stack trace');
  t.equal(server.stdout(), '', 'nothing logged: the process never got as far as a logger');
  t.notOk(existsSync(join(dataDir, 'lede.lock')), 'the database was never opened');
});

const dataDir = tempDataDir(t);

t.test('a running server answers /healthz, and a second process on its data directory is refused', async (t) => {
  const port = await freePort();
  const server = await startServer(t, serverEnv(port, dataDir));

  const health = await get(port, '/healthz');
  t.equal(health.status, 200);
  t.same(JSON.parse(health.body), { status: 'ok' });
  const ready = await get(port, '/readyz');
  t.equal(ready.status, 200);
  t.same(JSON.parse(ready.body), { status: 'ready', database: 'up', migrations: 'applied', replicas: [] });
  t.equal(readFileSync(join(dataDir, 'lede.lock'), 'utf8'), String(server.pid), 'the lock names the server');

  // Another port, so the only thing the two processes share is the data directory.
  const second = run(t, process.execPath, ['--import', 'tsx', 'src/server.ts'], serverEnv(await freePort(), dataDir));
  const exit = await within(second.exited, START_TIMEOUT_MS, 'the second process to exit');
  t.same(exit, { code: 1, signal: null });
  t.match(second.stderr(), `The embedded database in ${dataDir} is already in use by process ${server.pid}`);
  t.notMatch(second.stderr(), /\n\s+at /, 'no stack trace');

  t.equal((await get(port, '/healthz')).status, 200, 'the first server is unharmed');
  t.equal(readFileSync(join(dataDir, 'lede.lock'), 'utf8'), String(server.pid), 'and still holds its lock');

  server.child.kill('SIGTERM');
  t.same(await within(server.exited, EXIT_TIMEOUT_MS, 'the server to exit'), { code: 0, signal: null });
  t.notOk(existsSync(join(dataDir, 'lede.lock')), 'the lock is released on shutdown');
});

t.test('the keys CLI, and graceful shutdown with a request in flight', async (t) => {
  const cliEnv = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  let created: { key: string; id: string } | undefined;

  await t.test('keys create prints the key as its last line', async (t) => {
    const result = await runCli(t, ['create', '--role', 'admin', '--name', 'Test'], cliEnv);
    t.same({ code: result.code, signal: result.signal }, { code: 0, signal: null }, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    const key = lines.at(-1) ?? '';
    t.match(key, KEY_SHAPE);
    const id = /\(id ([0-9a-f-]{36})\)/.exec(result.stdout)?.[1];
    t.ok(id, 'the id is printed, for revoking');
    t.match(result.stdout, /admin key "Test"/);
    if (KEY_SHAPE.test(key) && id) created = { key, id };
  });

  // Both shutdown tests send a POST whose body is only partly sent when SIGTERM arrives. A request
  // without a key cannot be in flight: auth refuses it with 401 in onRequest, before the body is
  // read, so the answer would come back before the signal. With the key made above, the request
  // passes auth and waits for its body, so it really is in flight while the server shuts down.
  /** Several requests held in flight (bodies half sent) across SIGTERM; each must complete. */
  async function inFlightAcrossShutdown(t: Test, options: { name: string; keepAlive: boolean; graceMs: number }) {
    const IN_FLIGHT = 4;
    const port = await freePort();
    const server = await startServer(t, serverEnv(port, dataDir, { SHUTDOWN_GRACE_MS: String(options.graceMs) }));
    const names = Array.from({ length: IN_FLIGHT }, (_, i) => `${options.name} ${i}`);
    const split = 10;
    const clients = [];
    for (const name of names) {
      const body = JSON.stringify({ name, locale: 'en' });
      const client = rawRequest(port);
      t.teardown(() => client.socket.destroy());
      await within(client.connected, RESPONSE_TIMEOUT_MS, 'connect');
      await client.write(
        'POST /v1/tags HTTP/1.1\r\n' +
          'Host: 127.0.0.1\r\n' +
          `Authorization: Bearer ${created!.key}\r\n` +
          'Content-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          (options.keepAlive ? '' : 'Connection: close\r\n') +
          '\r\n' +
          body.slice(0, split),
      );
      clients.push({ client, body, name });
    }
    const arrived = () => (server.stdout().match(/"url":"\/v1\/tags".*"msg":"incoming request"/g) ?? []).length;
    const deadline = Date.now() + RESPONSE_TIMEOUT_MS;
    while (arrived() < IN_FLIGHT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    t.equal(arrived(), IN_FLIGHT, `${IN_FLIGHT} requests are in flight`);

    server.child.kill('SIGTERM');
    await server.waitForOutput(/"msg":"shutting down: finishing in-flight requests"/, EXIT_TIMEOUT_MS);
    t.ok(await refusesConnections(port, 5_000), 'the server stops accepting connections');
    t.ok(clients.every(({ client }) => client.receivedBytes() === 0), 'no answer yet: the requests are still in flight');

    for (const { client, body } of clients) await client.write(body.slice(split));
    for (const { client, name } of clients) {
      const response = await client.response(RESPONSE_TIMEOUT_MS);
      t.equal(response.status, 201, `in-flight request "${name}" is carried out`);
      t.match(JSON.parse(response.body), { name, version: 1 });
      t.match(response.headers.etag, /^"v1-/);
    }
    const answeredAt = Date.now();

    const exit = await within(server.exited, options.graceMs + EXIT_TIMEOUT_MS, 'the server to exit');
    return { exit, exitedAfterMs: Date.now() - answeredAt, log: server.stdout() };
  }

  await t.test('SIGTERM lets an in-flight request finish, then exits 0', { skip: !created && 'no key was made' }, async (t) => {
    const { exit, log } = await inFlightAcrossShutdown(t, { name: 'Shutdown', keepAlive: false, graceMs: 10_000 });
    t.same(exit, { code: 0, signal: null });
    t.match(log, /"msg":"shutdown complete"/);
    t.notMatch(log, /shutdown took too long/);
    t.notOk(existsSync(join(dataDir, 'lede.lock')), 'the database was closed and its lock released');
  });

  await t.test('SIGTERM with an in-flight request on a keep-alive connection', { skip: !created && 'no key was made' }, async (t) => {
    // HTTP/1.1 clients (and load balancers) keep connections open by default. Once shutdown has
    // begun the response must close its connection, or the idle connection would keep
    // server.close() waiting until the grace timer killed the process.
    const { exit, exitedAfterMs, log } = await inFlightAcrossShutdown(t, { name: 'Keepalive', keepAlive: true, graceMs: 2_000 });
    t.same(exit, { code: 0, signal: null }, `exited ${exitedAfterMs} ms after the response`);
    t.notMatch(log, /shutdown took too long/);
    t.match(log, /"msg":"shutdown complete"/);
    t.notOk(existsSync(join(dataDir, 'lede.lock')), 'the database was closed and its lock released');
  });

  await t.test('keys list shows the prefix, never the key', { skip: !created && 'no key was made' }, async (t) => {
    const { key, id } = created!;
    const result = await runCli(t, ['list'], cliEnv, { direct: true });
    t.equal(result.code, 0, result.stderr);
    const line = result.stdout.split('\n').find((l) => l.startsWith(id));
    t.ok(line, 'the key is listed by id');
    t.match(line, new RegExp(`^${id}\\s+${key.slice(0, 17)}\\s+admin\\s+active\\s+Test$`));
    t.notMatch(result.stdout, key, 'never the key');
    t.notMatch(result.stdout, key.slice(18), 'never the secret');
  });

  await t.test('keys revoke --id revokes the key', { skip: !created && 'no key was made' }, async (t) => {
    const { id } = created!;
    const revoked = await runCli(t, ['revoke', '--id', id], cliEnv, { direct: true });
    t.equal(revoked.code, 0, revoked.stderr);
    t.match(revoked.stdout, `Revoked key ${id} (Test).`);

    const listed = await runCli(t, ['list'], cliEnv, { direct: true });
    t.equal(listed.code, 0, listed.stderr);
    t.match(listed.stdout.split('\n').find((l) => l.startsWith(id)), /\srevoked \d{4}-\d{2}-\d{2}T[\d:.]+Z\s+Test$/);
  });

  await t.test('a bad role is refused before anything is created', async (t) => {
    const result = await runCli(t, ['create', '--role', 'superuser', '--name', 'Nope'], cliEnv);
    t.not(result.code, 0);
    t.equal(result.code, 2, 'a usage error');
    t.match(result.stderr, '--role must be one of reader, editor, admin.');
    t.match(result.stderr, /Usage:/);
    t.notMatch(result.stdout, /lede_/, 'no key printed');
  });
});

t.test('SIGTERM ends open event streams and exits within the grace period', async (t) => {
  const port = await freePort();
  const graceMs = 5_000;
  const server = await startServer(t, serverEnv(port, dataDir, { SHUTDOWN_GRACE_MS: String(graceMs) }));
  const streams = await Promise.all([1, 2, 3].map(() => openStream(`http://127.0.0.1:${port}/v1/events/stream`)));
  t.same(streams.map((stream) => stream.status), [200, 200, 200]);
  const started = Date.now();
  server.child.kill('SIGTERM');
  await within(Promise.all(streams.map((stream) => stream.ended)), graceMs, 'the streams to end');
  t.same(await within(server.exited, graceMs, 'the server to exit'), { code: 0, signal: null });
  t.ok(Date.now() - started < graceMs, 'well within the grace period: streams do not hold the shutdown');
});
