/**
 * `npm run bench -- --stream [--clients N]`: what idle live event streams cost the server in memory,
 * and how fast a write reaches all of them. One Lede process; the clients are a separate process
 * (bench/stream-clients.ts) so they do not share the bench's event loop. Writes
 * bench/results/stream.json.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { openPostgres } from '../src/db/postgres.js';
import { keysService } from '../src/modules/keys/keys.service.js';
import { startServer } from './servers.js';

const PORT = 3204;
const PUBLISHES = 30;
const SPACING_MS = 300;
/** How long the server is left alone before its memory is read (time for a GC or two). */
const SETTLE_MS = 5_000;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

const vmRssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

/** Resident memory now, in MB: the median of five reads 500 ms apart. */
async function rssMb(pid: number): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    reads.push(vmRssKb(pid));
    if (i < 4) await sleep(500);
  }
  return (reads.sort((a, b) => a - b)[2] ?? Number.NaN) / 1024;
}

/** The V8 heap in use (its /metrics), in MB: the part of the RSS that is JavaScript objects. */
async function heapUsedMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
}

/** utime + stime so far, in seconds (the kernel counts in ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The commit measured, and the source files that differed from it (work in progress is measured too). */
function source(): { commit: string; modified: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  return { commit: git('rev-parse', '--short', 'HEAD'), modified: git('status', '--porcelain', '--', 'src', 'migrations').split('\n').filter(Boolean) };
}

/** CPU seconds the whole machine spent busy so far (all processes; /proc/stat counts in 1/100 s). */
function machineBusySeconds(): number {
  // cpu  user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1, 9).map(Number);
  return ticks.reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0) / 100;
}

function openFileLimit(): number {
  return Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`the client process exited (${code})`));
    const listener = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', listener);
      child.off('exit', exited);
      resolve(message as T);
    };
    child.on('message', listener);
    child.once('exit', exited);
    child.send({ type });
  });
}

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export async function runStreamBench(url: string, clients: number): Promise<void> {
  const limit = openFileLimit();
  // Others' work on the machine moves the latencies: the 1-minute load is kept with the figures.
  const loadAtStart = loadavg()[0] ?? 0;
  if (limit < clients + 256) throw new Error(`the open-file limit is ${limit}: ${clients} streams need at least ${clients + 256} in each process (ulimit -n)`);
  const database = await openPostgres({ connectionString: url, poolMax: 2 });
  await database.migrate();
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'Benchmark' });
  await database.close();

  const server = await startServer('lede', 'src/server.ts', PORT, {
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    DEMO_CONTENT: 'false',
    RATE_LIMIT_MAX: '0',
    DATABASE_POOL_MAX: '10',
    STREAM_MAX_CLIENTS: String(Math.max(10_000, clients)),
    STREAM_MAX_CLIENTS_PER_ADDRESS: String(Math.max(10_000, clients)),
  }, '/healthz');
  const pid = server.process.pid ?? 0;
  const writeTag = async (name: string) => {
    const response = await fetch(`${server.url}/v1/tags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (response.status !== 201) throw new Error(`tag write: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { id: string }).id;
  };
  let child: ChildProcess | null = null;
  try {
    // Warm up: a few streams and writes, so the baseline already holds the code and pools they use.
    const warm = new AbortController();
    const warmStreams = await Promise.all(Array.from({ length: 5 }, () => fetch(`${server.url}/v1/events/stream`, { signal: warm.signal })));
    for (let i = 0; i < 5; i += 1) await writeTag(`Warm-up ${i}`);
    await sleep(500);
    warm.abort();
    await Promise.all(warmStreams.map((response) => response.body?.cancel().catch(() => undefined)));
    await sleep(SETTLE_MS);
    const rssNoClientsMb = await rssMb(pid);
    const heapNoClientsMb = await heapUsedMb(server.url);
    process.stdout.write(`server RSS with no streams: ${round(rssNoClientsMb)} MB; opening ${clients} streams from a client process\n`);

    const forked = fork(new URL('./stream-clients.ts', import.meta.url), ['127.0.0.1', String(PORT), String(clients)], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
    });
    child = forked;
    const opened = await new Promise<{ connected: number; refused: number; seconds: number; cpuSeconds: number }>((resolve, reject) => {
      forked.once('message', (message) => resolve(message as { connected: number; refused: number; seconds: number; cpuSeconds: number }));
      forked.once('exit', (code) => reject(new Error(`the client process exited (${code}) before connecting`)));
    });
    if (opened.connected !== clients) throw new Error(`only ${opened.connected} of ${clients} streams opened (${opened.refused} refused)`);
    process.stdout.write(`${clients} streams open in ${round(opened.seconds, 2)} s; settling ${SETTLE_MS / 1000} s\n`);
    await sleep(SETTLE_MS);
    const rssWithClientsMb = await rssMb(pid);
    const heapWithClientsMb = await heapUsedMb(server.url);
    const perClientKb = ((rssWithClientsMb - rssNoClientsMb) * 1024) / clients;
    process.stdout.write(`server RSS with ${clients} idle streams: ${round(rssWithClientsMb)} MB: ${round(perClientKb)} KB per stream\n`);

    // Publish: one tag (one public tag.created) every SPACING_MS, the time each request left noted.
    const serverCpuBefore = cpuSeconds(pid);
    const clientCpuBefore = cpuSeconds(forked.pid ?? 0);
    const machineBefore = machineBusySeconds();
    const sent = new Map<string, number>();
    const run = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < PUBLISHES; i += 1) {
      const at = now();
      sent.set(await writeTag(`Stream ${run} ${i}`), at);
      await sleep(Math.max(0, at + SPACING_MS - now()));
    }
    const expected = clients * PUBLISHES;
    const deadline = now() + 15_000;
    while (now() < deadline && (await ask<{ received: number }>(forked, 'count')).received < expected) await sleep(100);
    const publishPhaseSeconds = (now() - Math.min(...sent.values())) / 1000;
    const serverCpuSeconds = cpuSeconds(pid) - serverCpuBefore;
    const machineCpuSeconds = machineBusySeconds() - machineBefore;
    const loadAfterPublishing = loadavg()[0] ?? 0;
    const clientCpuPublishSeconds = cpuSeconds(forked.pid ?? 0) - clientCpuBefore;
    const report = await ask<{ receipts: [number, Float64Array][]; duplicates: number; closedEarly: number; cpuSeconds: number }>(forked, 'report');

    // Which event each write made: the log lists tag.created events with the tag's id.
    const eventOf = new Map<number, number>();
    const events = (await (await fetch(`${server.url}/v1/events?types=tag.created&limit=100`)).json()) as { data: { id: string; data: { id: string } }[] };
    for (const event of events.data) {
      const at = sent.get(event.data.id);
      if (at !== undefined) eventOf.set(Number(event.id), at);
    }
    if (eventOf.size !== PUBLISHES) throw new Error(`found ${eventOf.size} of the ${PUBLISHES} writes' events in the log`);
    const latencies: number[] = [];
    // Per event, its first and its last client: the way to the hub, then the fan-out.
    const firsts: number[] = [];
    const lasts: number[] = [];
    for (const [id, times] of report.receipts) {
      const at = eventOf.get(id);
      if (at === undefined) continue;
      const received = [...times].filter((time) => !Number.isNaN(time)).map((time) => time - at);
      latencies.push(...received);
      firsts.push(Math.min(...received));
      lasts.push(Math.max(...received));
    }
    const median = (values: number[]) => round(percentile(Float64Array.from(values).sort(), 50));
    const sorted = Float64Array.from(latencies).sort();
    const results = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, openFileLimit: limit },
      source: source(),
      load1m: { atStart: round(loadAtStart, 2), afterPublishing: round(loadAfterPublishing, 2) },
      clients,
      publishes: PUBLISHES,
      spacingMs: SPACING_MS,
      connectSeconds: round(opened.seconds, 2),
      rssNoClientsMb: round(rssNoClientsMb),
      rssWithClientsMb: round(rssWithClientsMb),
      perClientKb: round(perClientKb),
      heapUsedNoClientsMb: round(heapNoClientsMb),
      heapUsedWithClientsMb: round(heapWithClientsMb),
      heapPerClientKb: round(((heapWithClientsMb - heapNoClientsMb) * 1024) / clients),
      deliveries: latencies.length,
      expected,
      duplicates: report.duplicates,
      closedEarly: report.closedEarly,
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
      firstClientMedianMs: median(firsts),
      lastClientMedianMs: median(lasts),
      clientCpuSeconds: round(report.cpuSeconds, 2),
      clientCpuConnectSeconds: round(opened.cpuSeconds, 2),
      clientCpuPublishSeconds: round(clientCpuPublishSeconds, 2),
      serverCpuSeconds: round(serverCpuSeconds, 2),
      machineCpuSeconds: round(machineCpuSeconds, 2),
      publishPhaseSeconds: round(publishPhaseSeconds, 2),
    };
    writeFileSync('bench/results/stream.json', `${JSON.stringify(results, null, 2)}\n`);
    const rows: [string, string][] = [
      ['streams', `${clients} (opened in ${results.connectSeconds} s)`],
      ['server RSS, no streams', `${results.rssNoClientsMb} MB`],
      [`server RSS, ${clients} idle streams`, `${results.rssWithClientsMb} MB`],
      ['memory per idle stream', `${results.perClientKb} KB (target < 20); V8 heap in use +${results.heapPerClientKb} KB`],
      ['deliveries', `${results.deliveries} of ${expected} (${results.duplicates} repeated, ${results.closedEarly} streams closed)`],
      ['latency p50 / p99 / max', `${results.p50Ms} / ${results.p99Ms} / ${results.maxMs} ms (target p99 < 250)`],
      ['an event\'s first / last client (medians)', `${results.firstClientMedianMs} / ${results.lastClientMedianMs} ms`],
      ['CPU in the publish phase', `server ${results.serverCpuSeconds} s, whole machine ${results.machineCpuSeconds} s, over ${results.publishPhaseSeconds} s`],
      ['1-minute load: start / after publishing', `${results.load1m.atStart} / ${results.load1m.afterPublishing} (${results.machine.cpus} CPUs)`],
      ['client CPU: connect / publish / all', `${results.clientCpuConnectSeconds} / ${results.clientCpuPublishSeconds} / ${results.clientCpuSeconds} s`],
    ];
    process.stdout.write(`${rows.map(([name, value]) => `${name.padEnd(42)} ${value}`).join('\n')}\nwrote bench/results/stream.json\n`);
  } finally {
    if (child?.connected) child.send({ type: 'close' });
    await server.stop();
  }
}
