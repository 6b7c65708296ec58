import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Lede as production runs it: compiled by `npm run build`, started with no TypeScript loader. */
export const LEDE_PRODUCTION_SCRIPT = 'dist/server.js';
/** The heap ceiling production runs with (Dockerfile, npm start): without it V8 lets garbage pile up on a large machine. */
export const LEDE_PRODUCTION_NODE_OPTIONS = '--max-old-space-size=512';

/** `npm run build` (scripts/build.js), so the bench measures the code as it is now. */
export function buildLede(): void {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['scripts/build.js'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
  process.stdout.write(`built ${LEDE_PRODUCTION_SCRIPT} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

export interface RunningServer {
  name: string;
  url: string;
  process: ChildProcess;
  /** Peak resident memory so far (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

async function waitForHealth(url: string, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}${path}`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

/** A started server process: its peak RSS read from /proc, stopped with SIGTERM (SIGKILL after 10 s). */
export function runningServer(name: string, url: string, child: ChildProcess): RunningServer {
  return {
    name,
    url,
    process: child,
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round(kb / 1024);
    },
    stop: () =>
      new Promise((resolve) => {
        // Exited, or killed by a signal (exitCode stays null then): 'exit' will not come again.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/**
 * Starts `node <script>`: a compiled `.js` script runs as in production, with no loader, so the
 * process measured (its pid, its RSS) is the server alone; a `.ts` script runs under tsx.
 */
export async function startServer(name: string, script: string, port: number, env: Record<string, string>, healthPath: string) {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, script], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(loader.length === 0 ? { NODE_OPTIONS: LEDE_PRODUCTION_NODE_OPTIONS } : {}),
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, healthPath, 60_000);
  return runningServer(name, url, child);
}
