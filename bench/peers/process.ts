/**
 * Starts a peer as `node <script> <args>` under Node 22, in the peer's directory, with only the
 * environment given (plus PATH and HOME), and waits until it answers. The process spawned is the
 * server itself (no npm or shell in between), so its pid's peak RSS is the peer's.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, runningServer } from '../servers.js';
import { NODE22, NODE22_DIR } from './install.js';

export interface PeerStart {
  name: string;
  cwd: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  healthPath: string;
  timeoutMs?: number;
}

/** Runs a command of the peer's own CLI to its end (Directus's `bootstrap`), output to a log file. */
export async function runPeerCommand(start: Omit<PeerStart, 'port' | 'healthPath'>): Promise<void> {
  const log = join(tmpdir(), `lede-bench-${start.name}.log`);
  const child = spawn(NODE22, start.args, { cwd: start.cwd, env: baseEnv(start.env), stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${start.name}: node ${start.args.join(' ')} exited ${code}; see ${log}`);
}

function baseEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: `${join(NODE22_DIR, 'bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', ...env };
}

/** True when something already answers on the port (a peer left over from a killed run would be measured instead). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return true;
  } catch {
    return false;
  }
}

export async function startPeer(start: PeerStart): Promise<RunningServer> {
  if (await answers(`http://127.0.0.1:${start.port}/`)) throw new Error(`${start.name}: port ${start.port} is taken (a peer left from an earlier run?)`);
  // The peers' output (Strapi prints a banner, both log warnings) goes to a file, read when one fails.
  const log = join(tmpdir(), `lede-bench-${start.name.replace(/\W+/g, '-')}.log`);
  const child = spawn(NODE22, start.args, {
    cwd: start.cwd,
    env: { ...baseEnv(start.env), PORT: String(start.port), HOST: '127.0.0.1' },
    stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
  });
  const url = `http://127.0.0.1:${start.port}`;
  const deadline = Date.now() + (start.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${start.name} exited (${child.exitCode}) while starting; see ${log}`);
    try {
      if ((await fetch(`${url}${start.healthPath}`)).status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${start.name} did not answer ${start.healthPath} in time; see ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return runningServer(start.name, url, child);
}
