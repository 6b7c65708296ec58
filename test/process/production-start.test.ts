import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { freePort } from './throwaway-postgres.js';
import { within } from './waiting.js';
import { baseEnv } from './built-server.js';

/**
 * Production as the Dockerfile and `npm start` run it: `npm run build` compiles src/ to dist/,
 * then `node dist/server.js`, with no TypeScript loader, starts on an empty embedded database,
 * migrates it (the migrations found from dist/db/), loads the demo content (its JSON copied
 * beside the compiled code), answers, and exits 0 on SIGTERM.
 */
t.setTimeout(300_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// tsc over the whole of src/ takes 5-10 s on a quiet machine; the suite may share two busy cores.
const BUILD_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  output(): string;
}

/** Spawns in its own process group, so the teardown can end npm and everything it started. */
function run(t: Test, command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  const pid = child.pid;
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let done = false;
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
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
  return { child, pid, exited, output: () => output };
}

async function getJson<T>(port: number, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls /readyz until it answers 200; fails at once if the process exits first. */
async function waitUntilReady(server: Running, port: number): Promise<void> {
  let exited: Exit | undefined;
  void server.exited.then((exit) => (exited = exit));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the server exited (${JSON.stringify(exited)}) before it was ready:\n${server.output()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not ready within ${START_TIMEOUT_MS} ms:\n${server.output()}`);
}

t.test('npm run build, then node dist/server.js serves the demo content and stops cleanly', async (t) => {
  const build = run(t, 'npm', ['run', 'build'], {});
  const built = await within(build.exited, BUILD_TIMEOUT_MS, 'npm run build');
  t.same(built, { code: 0, signal: null }, `npm run build succeeds: ${build.output()}`);
  if (built.code !== 0) return;
  for (const asset of ['seed-article.json', 'seed-timeline.json']) {
    t.equal(
      readFileSync(join(ROOT, 'dist/db/demo', asset), 'utf8'),
      readFileSync(join(ROOT, 'src/db/demo', asset), 'utf8'),
      `dist/db/demo/${asset} is src's copy`,
    );
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'lede-production-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const server = run(t, process.execPath, ['dist/server.js'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  });
  await waitUntilReady(server, port);

  // What the kernel says the process was started with: node and the compiled file, nothing else.
  const argv = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  t.same(argv, [process.execPath, 'dist/server.js'], 'no --import, --require or --loader');
  // tap adds its own process-info hook to every child's NODE_OPTIONS; no TypeScript loader may be there.
  const environ = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
  const nodeOptions = environ.find((entry) => entry.startsWith('NODE_OPTIONS=')) ?? '';
  t.notMatch(nodeOptions, /tsx|typescript|--loader|--require/, 'no TypeScript loader through NODE_OPTIONS');

  const ready = await getJson(port, '/readyz');
  t.same(ready.body, { status: 'ready', database: 'up', migrations: 'applied', replicas: [] }, 'the migrations were found and applied');

  const seed = (JSON.parse(readFileSync(join(ROOT, 'src/db/demo/seed-article.json'), 'utf8')) as { article: { slug: string } }).article;
  const articles = await getJson<{ data: { slug: string; status: string }[] }>(port, '/v1/articles');
  t.equal(articles.status, 200);
  t.ok(
    articles.body.data.some((article) => article.slug === seed.slug && article.status === 'published'),
    'the demo article is served',
  );
  const timeline = await getJson<{ data: unknown[] }>(port, '/v1/timeline');
  t.equal(timeline.status, 200);
  t.ok(timeline.body.data.length > 0, 'the demo timeline has entries');
  t.match(server.output(), /"msg":"empty database: demo content loaded"/);

  server.child.kill('SIGTERM');
  t.same(await within(server.exited, EXIT_TIMEOUT_MS, 'the server to exit'), { code: 0, signal: null }, 'SIGTERM: exit 0');
  t.match(server.output(), /"msg":"shutdown complete"/);
});
