import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * wrk (a C load generator, far cheaper per request than one in Node) drives the reads: one thread
 * and a few connections leave the machine's other core to the server measured. Its Lua `done()`
 * prints the figures as JSON; a `request()` picks each request's path where the row varies it.
 */
export const WRK = process.env.BENCH_WRK ?? 'wrk';

/** The installed wrk's version line, or null when there is none. */
export function wrkVersion(): string | null {
  const result = spawnSync(WRK, ['--version'], { encoding: 'utf8' });
  if (result.error) return null;
  return (/^wrk \S+/.exec(`${result.stdout}${result.stderr}`)?.[0] ?? 'wrk').trim();
}

export interface WrkRound {
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  requests: number;
  /** Answers outside 2xx and 3xx. */
  non2xx3xx: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
}

export interface WrkOptions {
  url: string;
  path: string;
  seconds: number;
  connections: number;
  threads: number;
  headers?: Record<string, string>;
  /** Each request asks for `${prefix}${n}`, n uniform in 1..count (a random slug). */
  pick?: { prefix: string; count: number };
}

const DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"durationUs":%d,"status":%d,"socket":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

function script(pick: WrkOptions['pick']): string {
  if (!pick) return DONE;
  return `
math.randomseed(os.time())
local prefix, count = ${JSON.stringify(pick.prefix)}, ${Math.floor(pick.count)}
request = function()
  return wrk.format(nil, prefix .. math.random(1, count))
end
${DONE}`;
}

const run = promisify(execFile);

export async function runWrk(options: WrkOptions): Promise<WrkRound> {
  const dir = mkdtempSync(join(tmpdir(), 'lede-wrk-'));
  try {
    const file = join(dir, 'bench.lua');
    writeFileSync(file, script(options.pick));
    const headerArgs = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const { stdout } = await run(WRK, [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${Math.max(1, Math.round(options.seconds))}s`,
      '--timeout',
      '10s',
      '-s',
      file,
      ...headerArgs,
      `${options.url}${options.path}`,
    ]);
    const line = stdout.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no figures:\n${stdout}`);
    const figures = JSON.parse(line.slice('WRK_JSON '.length)) as { requests: number; durationUs: number; status: number; socket: number; p50: number; p99: number };
    return {
      rps: figures.requests / (figures.durationUs / 1e6),
      p50: figures.p50 / 1000,
      p99: figures.p99 / 1000,
      requests: figures.requests,
      non2xx3xx: figures.status,
      socketErrors: figures.socket,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
