import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled server for a process test: scripts/build.js into a folder of the test's own in the
 * repository's root (`.build-<name>/`, ignored by git and eslint), so that tests tap runs at the
 * same time never race on one output folder. The folder sits in the root because the compiled
 * code finds the migrations at <folder>/db/../../migrations, as dist/ does.
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsc over the whole of src/ takes 5-10 s on a quiet machine; the suite may share two busy cores. */
export const BUILD_TIMEOUT_MS = 180_000;

/**
 * Only what a child process needs: tap's own NODE_OPTIONS (and the tsx loader it names) stay out,
 * so the child runs as production does, with plain Node.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'NODE_EXTRA_CA_CERTS']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export interface BuiltServer {
  /** The output folder, absolute: `<dir>/server.js`, `<dir>/cli/keys.js`, … */
  dir: string;
  /** Removes the folder. */
  remove(): void;
}

/** Runs `node scripts/build.js .build-<name>`; rejects with the build's output if it fails or times out. */
export async function buildServer(name: string, timeoutMs = BUILD_TIMEOUT_MS): Promise<BuiltServer> {
  if (!/^[\w-]+$/.test(name)) throw new Error(`not a build folder name: ${name}`);
  const folder = `.build-${name}`;
  const dir = join(ROOT, folder);
  const child = spawn(process.execPath, ['scripts/build.js', folder], { cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`node scripts/build.js ${folder} failed (exit ${code}${code === null ? `, killed after ${timeoutMs} ms` : ''}):\n${output}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
