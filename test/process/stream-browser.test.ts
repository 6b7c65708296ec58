import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page, type Request } from 'playwright-core';
import t, { type Test } from 'tap';
import { PUBLIC_EVENT_TYPES } from '../../src/events/event-types.js';
import { freePort } from './throwaway-postgres.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { within } from './waiting.js';

/**
 * The live event stream in a real browser, across a restart of the server. A page on another
 * origin (allowed by CORS_ORIGINS) follows `GET /v1/events/stream` anonymously with the
 * browser's own EventSource. The server (`src/server.ts` as a child process, on an embedded
 * database in a data directory of its own) is stopped with SIGTERM and started again on the
 * same port and data; writes are made before the browser is back, and its EventSource then
 * reconnects by itself with Last-Event-ID. The page must end up with every public event of the
 * log from the first one it saw, each once, in order: exactly what `GET /v1/events` lists.
 *
 * The writes made "before the browser is back" must really come before its reconnection, or
 * they would arrive live and the resume would go untested: the browser is taken offline
 * (DevTools network emulation: its EventSource keeps retrying every `retry:` ms, each attempt
 * failing) from the shutdown until those writes are done, then brought back online.
 */
// Ceilings for a busy machine; the test itself takes well under a minute on an idle one.
t.setTimeout(180_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 90_000;
const EXIT_TIMEOUT_MS = 15_000;
const RESPONSE_TIMEOUT_MS = 15_000;
/** EventSource waits `retry:` (3 s) between attempts: room for a few on two busy cores. */
const BROWSER_TIMEOUT_MS = 20_000;
const KEY_SHAPE = /^lede_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
/** Every type an anonymous stream may carry (and its end below the retention): the page listens for each. */
const LISTENED = [...PUBLIC_EVENT_TYPES, 'events.expired'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Child {
  exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  signal(name: NodeJS.Signals): void;
}

/** Cleanups, run last-registered first when the test ends, however it ends. */
type Cleanups = (() => unknown)[];

/** Only what a process needs: tap's own NODE_OPTIONS hooks must not leak into the server. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** `node --import tsx <script>` in its own process group; the group is killed at cleanup. */
function spawnTsx(cleanups: Cleanups, script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${script} did not start`);
  const pid = child.pid;
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let done = false;
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  cleanups.push(async () => {
    if (done) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await within(exited, EXIT_TIMEOUT_MS, `${script} to die after SIGKILL`).catch(() => {});
  });
  return { exited, stdout: () => out, stderr: () => err, signal: (name) => child.kill(name) };
}

/** The keys CLI, as an operator runs it; the key is the last line it prints. */
async function createKey(cleanups: Cleanups, dataDir: string): Promise<string> {
  const cli = spawnTsx(cleanups, 'src/cli/keys.ts', ['create', '--role', 'editor', '--name', 'Stream browser'], {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  });
  const exit = await within(cli.exited, CLI_TIMEOUT_MS, 'keys create');
  if (exit.code !== 0) throw new Error(`keys create failed (${exit.code ?? exit.signal}): ${cli.stderr()}`);
  const key = cli.stdout().trimEnd().split('\n').at(-1) ?? '';
  if (!KEY_SHAPE.test(key)) throw new Error(`keys create printed no key: ${cli.stdout()}`);
  return key;
}

/** Starts the server and resolves once it listens; rejects if it exits or takes too long. */
async function startServer(cleanups: Cleanups, env: Record<string, string>): Promise<Child> {
  const server = spawnTsx(cleanups, 'src/server.ts', [], env);
  const listening = new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (/"msg":"Server listening at /.test(server.stdout())) {
        clearInterval(poll);
        resolve();
      }
    }, 25);
    void server.exited.then((exit) => {
      clearInterval(poll);
      reject(new Error(`the server exited (${exit.code ?? exit.signal}) while starting; stderr: ${server.stderr()}`));
    });
    cleanups.push(() => clearInterval(poll));
  });
  await within(listening, START_TIMEOUT_MS, 'the server to listen');
  return server;
}

/** One request on a fresh connection, closed afterwards: nothing kept alive across a shutdown. */
function call(
  port: number,
  method: string,
  path: string,
  { key, body, headers = {} }: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          ...headers,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
  return within(request, RESPONSE_TIMEOUT_MS, `${method} ${path}`);
}

async function post(port: number, key: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) {
  const response = await call(port, 'POST', path, { key, body, headers });
  if (response.status !== expected) throw new Error(`POST ${path}: ${response.status} ${response.body}`);
  return JSON.parse(response.body) as { id: string; version: number };
}

interface LogEvent {
  id: string;
  type: string;
  data: { id: string };
}

/** The whole log as an anonymous reader lists it (public events only), every page. */
async function publicLog(port: number): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let query = 'after=0';
  for (;;) {
    const response = await call(port, 'GET', `/v1/events?${query}&limit=500`);
    if (response.status !== 200) throw new Error(`GET /v1/events: ${response.status} ${response.body}`);
    const page = JSON.parse(response.body) as { data: LogEvent[]; nextCursor: string | null };
    events.push(...page.data);
    if (!page.nextCursor) return events;
    query = `cursor=${encodeURIComponent(page.nextCursor)}`;
  }
}

/** A page that follows the API's stream with EventSource and keeps everything it hears. */
function pageHtml(streamUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Live events</title></head><body>
<script>
  const record = { received: [], opens: [], errors: [], unnamed: 0 };
  window.record = record;
  const source = new EventSource(${JSON.stringify(streamUrl)});
  window.source = source;
  for (const type of ${JSON.stringify(LISTENED)}) {
    source.addEventListener(type, (event) => {
      const body = JSON.parse(event.data);
      record.received.push({ lastEventId: event.lastEventId, type: event.type, id: body.id, bodyType: body.type, subject: body.data && body.data.id });
    });
  }
  source.addEventListener('message', () => { record.unnamed += 1; });
  source.addEventListener('open', () => { record.opens.push(Date.now()); });
  source.addEventListener('error', () => { record.errors.push({ at: Date.now(), readyState: source.readyState }); });
</script>
</body></html>`;
}

interface Received {
  lastEventId: string;
  type: string;
  id: string;
  bodyType: string;
  subject: string;
}

interface PageRecord {
  received: Received[];
  opens: number[];
  errors: { at: number; readyState: number }[];
  unnamed: number;
}

const pageRecord = (page: Page) => page.evaluate(() => (window as unknown as { record: PageRecord }).record);
const readyState = (page: Page) => page.evaluate(() => (window as unknown as { source: EventSource }).source.readyState);

/** Waits, polling inside the page, until `check` (an expression of `record` and `arg`) holds. */
async function pageUntil(page: Page, check: string, arg: unknown, what: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([body, value]) => new Function('record', 'arg', `return (${body});`)((window as unknown as { record: PageRecord }).record, value) as boolean,
      [check, arg] as const,
      { timeout: BROWSER_TIMEOUT_MS, polling: 50 },
    );
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}; the page has ${JSON.stringify(await pageRecord(page).catch(() => null))}`, { cause: error });
  }
}

if (!existsSync(CHROMIUM)) {
  t.plan(0, `no browser at ${CHROMIUM}: install Debian's chromium package to run the live events browser test`);
} else {
  t.test('a cross-origin page follows the live events across a restart of the server', async (t) => {
    const cleanups: Cleanups = [];
    t.teardown(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const servers: Child[] = [];
    try {
      await scenario(t, cleanups, servers);
    } catch (error) {
      // What went wrong on the server side is usually in its log: warnings, errors, and stderr.
      for (const [index, server] of servers.entries()) {
        const problems = server.stdout().split('\n').filter((line) => /"level":(40|50|60)/.test(line));
        t.comment(`server run ${index + 1}: ${[...problems, server.stderr()].join('\n').slice(-6000)}`);
      }
      throw error;
    }
  });
}

async function scenario(t: Test, cleanups: Cleanups, servers: Child[]): Promise<void> {
  const started = Date.now();
  const step = (what: string) => t.comment(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lede-stream-browser-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const apiPort = await freePort();
  const apiOrigin = `http://127.0.0.1:${apiPort}`;

  // The page's own server: another port, so another origin than the API's.
  const html = pageHtml(`${apiOrigin}/v1/events/stream`);
  const pageServer = http.createServer((request, response) => {
    if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    pageServer.closeAllConnections();
    return new Promise<void>((resolve) => pageServer.close(() => resolve()));
  });
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  const serverEnv = {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    DEMO_CONTENT: 'false',
    CORS_ORIGINS: pageOrigin,
    SHUTDOWN_GRACE_MS: '5000',
  };

  // The browser starts while the CLI creates the data directory (the slow part).
  const userDataDir = mkdtempSync(join(tmpdir(), 'lede-chromium-'));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const launching = chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  // Closed at cleanup even when the CLI fails before the launch is awaited.
  cleanups.push(() => launching.then((context) => context.close()).catch(() => {}));
  const key = await createKey(cleanups, dataDir);
  const context = await launching;
  step('key created, browser launched');

  let server = await startServer(cleanups, serverEnv);
  servers.push(server);
  step('server started');

  const page = await context.newPage();
  page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => void pageErrors.push(error.message));
  const streamRequests: Request[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${apiOrigin}/v1/events/stream`)) streamRequests.push(request);
  });
  await page.goto(`${pageOrigin}/`);
  await pageUntil(page, 'record.opens.length === 1', null, 'the page opens the stream');
  t.equal(await readyState(page), 1, 'the cross-origin EventSource is open');
  step('stream open');

  // Live: an article published while the page listens.
  const article = await post(apiPort, key, '/v1/articles', { title: 'Kyiv metro runs through the night' }, 201);
  await post(apiPort, key, `/v1/articles/${article.id}/publish`, undefined, 200, { 'if-match': `"v${article.version}"` });
  await pageUntil(
    page,
    "record.received.some((event) => event.type === 'article.published' && event.subject === arg)",
    article.id,
    'the page sees the article published',
  );
  const first = (await pageRecord(page)).received[0]!;
  t.match(first, { type: 'article.published', subject: article.id }, 'the first event the page hears is the publication, live');

  // Down: SIGTERM ends the stream; the browser goes offline until the writes below are made.
  server.signal('SIGTERM');
  await pageUntil(page, 'record.errors.length >= 1', null, 'the page notices the stream ended');
  await context.setOffline(true);
  t.same(await within(server.exited, EXIT_TIMEOUT_MS, 'the server to exit'), { code: 0, signal: null }, 'the server exits cleanly');
  t.equal(await readyState(page), 0, 'the EventSource is reconnecting, not closed');
  // What its EventSource resumes after: the id of the last event it got.
  const lastBeforeRestart = (await pageRecord(page)).received.at(-1)!.id;
  step('server stopped');

  // Up again on the same port and data; writes land while the browser cannot reach it.
  server = await startServer(cleanups, serverEnv);
  servers.push(server);
  step('server restarted');
  const whileAway = [];
  for (const name of ['Kharkiv', 'Odesa', 'Lviv']) whileAway.push(await post(apiPort, key, '/v1/tags', { name, locale: 'en' }, 201));
  t.equal(await readyState(page), 0, 'the page has not reconnected while those writes were made');
  t.equal((await pageRecord(page)).opens.length, 1, 'no second open yet');
  await context.setOffline(false);

  // Its EventSource comes back by itself, with Last-Event-ID; then writes go out live.
  await pageUntil(page, 'record.opens.length === 2', null, 'the page reconnects on its own');
  step('page reconnected');
  const entry = await post(apiPort, key, '/v1/timeline', { title: 'Air raid alert over in Kyiv', locale: 'en' }, 201);
  const lastTag = await post(apiPort, key, '/v1/tags', { name: 'Dnipro', locale: 'en' }, 201);
  await pageUntil(page, "record.received.some((event) => event.type === 'tag.created' && event.subject === arg)", lastTag.id, 'the page sees the live writes');
  step('live writes seen');

  const everything = await publicLog(apiPort);
  const log = everything.slice(everything.findIndex((event) => event.id === first.id));
  t.comment(`the public log from the page's first event: ${log.map((event) => `${event.id} ${event.type}`).join(', ')}`);
  const seen = (await pageRecord(page)).received;
  t.same(
    seen.map((event) => `${event.id} ${event.type} ${event.subject}`),
    log.map((event) => `${event.id} ${event.type} ${event.data.id}`),
    'the page has every public event of the log from its first, each once, in order',
  );
  t.same(
    log.filter((event) => event.type === 'tag.created' || event.type === 'timeline.entry.created').map((event) => event.data.id).slice(-5),
    [...whileAway.map((tag) => tag.id), entry.id, lastTag.id],
    'among them the writes made while the page was away and after it came back',
  );
  t.ok(
    seen.every((event) => event.lastEventId === event.id && event.bodyType === event.type),
    "each event's lastEventId is its id, and its data's type its type",
  );
  const ids = seen.map((event) => Number(event.id));
  t.ok(
    ids.every((id, index) => index === 0 || id > ids[index - 1]!),
    'ids only increase: no duplicate, nothing out of order',
  );

  // The requests the server answered (the others failed, offline): the first without a resume
  // point, the reconnection with the id of the last event the page had.
  const answered = [];
  for (const request of streamRequests) {
    const response = await request.response();
    if (response) answered.push({ status: response.status(), allowOrigin: response.headers()['access-control-allow-origin'], sent: await request.allHeaders() });
  }
  t.same(
    answered.map(({ status, allowOrigin, sent }) => ({ status, allowOrigin, lastEventId: sent['last-event-id'] })),
    [
      { status: 200, allowOrigin: pageOrigin, lastEventId: undefined },
      { status: 200, allowOrigin: pageOrigin, lastEventId: lastBeforeRestart },
    ],
    'two streams were answered, both for the page origin: the first, and the reconnection with Last-Event-ID',
  );
  const record = await pageRecord(page);
  t.equal(record.unnamed, 0, 'no event without a type');
  t.same(pageErrors, [], 'no uncaught errors in the page');

  await page.close();
  server.signal('SIGTERM');
  t.same(await within(server.exited, EXIT_TIMEOUT_MS, 'the server to exit'), { code: 0, signal: null }, 'the restarted server exits cleanly too');
  step('done');
}
