/**
 * `npm run bench -- --peers`: Directus (default, and with its own cache on) and Strapi on the run's
 * dataset, checked to answer each read with Lede's rows in Lede's order, then measured beside Lede
 * (uncached) and the baseline with the run's generator and settings, in rounds alternating all of
 * them. Writes bench/results/peers.json. Runs before the run's write rows, which add articles to
 * Lede's database that the peers would not have.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { RunningServer } from '../servers.js';
import { DIRECTUS_INDEXES, directusReads, directusStarted, directusVersion, setupDirectus, startDirectus } from './directus.js';
import { ensureNode22, installPeer, NODE22 } from './install.js';
import { keysOf, ledeReads, PEER_ROWS, type Pick, type ReadContext } from './reads.js';
import { STRAPI_INDEXES, startStrapi, strapiReads, strapiStarted, strapiVersion } from './strapi.js';

export const PEERS_RESULTS_FILE = 'bench/results/peers.json';

export interface Figures {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

export interface PeersRun {
  adminUrl: string;
  ledeDatabase: string;
  size: { articles: number; timeline: number; tags: number };
  quick: boolean;
  ledeUrl: string;
  baselineUrl: string;
  /** Lede's cursor for the 80 % deep page and the occurred_at of the entry it points at. */
  deepCursor: string;
  deepBefore: string;
  /** The run's wrk measurement of one round (or `seconds` of it) and its combination of rounds. */
  measure: (url: string, read: { path: string; pick?: Pick }, seconds?: number) => Promise<Figures>;
  combine: (rounds: Figures[]) => Figures;
  rounds: number;
  roundSeconds: number;
  warmUpSeconds: number;
  helloWorld: Figures;
  loadGenerator: string;
  /** The run's `--only`: just the rows whose name contains it. */
  only?: string;
  ledeStarted: string;
  baselineStarted: string;
}

/** Installs Node 22 and both peers before anything is measured (minutes the first time, then nothing). */
export function installPeers(): void {
  ensureNode22();
  installPeer('directus');
  installPeer('strapi-app');
}

const SYSTEMS = ['lede', 'baseline', 'directus', 'directusCached', 'strapi'] as const;
type System = (typeof SYSTEMS)[number];
type Asked = { path: string; pick?: Pick; how?: string } | { path: null; reason: string };

const PORTS = { directus: 3311, directusCached: 3312, strapi: 3313 };

async function keysAt(url: string, path: string): Promise<string[]> {
  const response = await fetch(`${url}${path}`);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${url}${path} answered ${response.status}: ${body.slice(0, 300)}`);
  return keysOf(body, response.headers.get('content-type') ?? '');
}

/** The paths a read asks for its checks: itself, or the first and last slug of a random-slug read. */
const checkedPaths = (read: { path: string; pick?: Pick }, articles: number) =>
  read.pick ? [`${read.pick.prefix}1`, `${read.pick.prefix}${articles}`] : [read.path];

export async function runPeers(run: PeersRun): Promise<void> {
  const started = Date.now();
  const context: ReadContext = { articles: run.size.articles, deepBefore: run.deepBefore, tag: 'tag-7' };
  const lede = ledeReads({ ...context, deepCursor: run.deepCursor });
  const peerReads = { directus: directusReads(context), directusCached: directusReads(context), strapi: strapiReads(context) };
  const servers: Partial<Record<System, RunningServer>> = {};
  const peakRssMb: Partial<Record<System, number>> = {};
  const rows: Record<string, unknown>[] = [];
  const verified: string[] = [];
  try {
    const setupStarted = Date.now();
    const directusDatabase = await setupDirectus(run.adminUrl, run.ledeDatabase);
    servers.directus = await startDirectus(directusDatabase, PORTS.directus, false);
    servers.directusCached = await startDirectus(directusDatabase, PORTS.directusCached, true);
    servers.strapi = await startStrapi(run.adminUrl, run.ledeDatabase, PORTS.strapi);
    const setupSeconds = Math.round((Date.now() - setupStarted) / 1000);
    process.stdout.write(`peers: Directus (default and cached) and Strapi up on the dataset in ${setupSeconds} s\n`);
    const urlOf = (system: System) => (system === 'lede' ? run.ledeUrl : system === 'baseline' ? run.baselineUrl : servers[system]!.url);

    // Each peer's rows for each read, against Lede's: all differences first, then fail.
    const differences: string[] = [];
    for (const row of PEER_ROWS) {
      for (const peer of ['directus', 'directusCached', 'strapi'] as const) {
        const read = peerReads[peer][row];
        if (read.path === null) continue;
        const ledePaths = checkedPaths(lede[row], run.size.articles);
        const paths = checkedPaths(read, run.size.articles);
        for (const [index, path] of paths.entries()) {
          const [expected, actual] = [await keysAt(run.ledeUrl, ledePaths[index]!), await keysAt(urlOf(peer), path)];
          if (expected.length === 0 || JSON.stringify(expected) !== JSON.stringify(actual)) {
            differences.push(`${row} (${peer}: ${path})\n  lede: ${expected.join(' ')}\n  ${peer}: ${actual.join(' ')}`);
          } else verified.push(`${row}: ${peer} (${expected.length})`);
        }
      }
    }
    if (differences.length > 0) throw new Error(`peers answer other rows than Lede:\n${differences.join('\n')}`);
    // The cached Directus answered each checked read already: asked again, it must answer from its cache.
    for (const row of PEER_ROWS) {
      const read = peerReads.directusCached[row];
      if (read.path === null) continue;
      const status = (await fetch(`${urlOf('directusCached')}${checkedPaths(read, run.size.articles)[0]}`)).headers.get('x-cache');
      if (status !== 'HIT') throw new Error(`the cached Directus did not answer ${row} from its cache the second time (X-Cache: ${status})`);
    }
    process.stdout.write(`peers answer Lede's rows: ${verified.join(', ')}\n`);

    for (const row of PEER_ROWS.filter((name) => !run.only || name.includes(run.only))) {
      const asked: Record<System, Asked> = { lede: lede[row], baseline: lede[row], ...Object.fromEntries(Object.entries(peerReads).map(([peer, reads]) => [peer, reads[row]])) } as Record<System, Asked>;
      const measured = SYSTEMS.filter((system) => asked[system].path !== null);
      const readOf = (system: System) => asked[system] as { path: string; pick?: Pick };
      for (const system of measured) await run.measure(urlOf(system), readOf(system), run.warmUpSeconds);
      const rounds = Object.fromEntries(measured.map((system) => [system, [] as Figures[]])) as Record<System, Figures[]>;
      for (let round = 0; round < run.rounds; round += 1) {
        for (const system of measured) rounds[system].push(await run.measure(urlOf(system), readOf(system)));
      }
      const figures = Object.fromEntries(SYSTEMS.map((system) => [system, measured.includes(system) ? run.combine(rounds[system]) : null])) as Record<System, Figures | null>;
      const ratio = figures.directus && figures.lede ? Math.round((figures.lede.rps / figures.directus.rps) * 100) / 100 : null;
      rows.push({ endpoint: row, ...figures, ledeOverDirectus: ratio, asked });
      // A server answering errors under load would be measured fast; say so (statuses are in peers.json).
      for (const system of measured) {
        const { other, socketErrors } = figures[system]!.statuses;
        if (other || socketErrors) process.stdout.write(`WARNING: ${row}: ${system} answered ${other ?? 0} non-2xx/3xx, ${socketErrors ?? 0} socket errors\n`);
      }
      process.stdout.write(
        `${row.padEnd(26)} ${SYSTEMS.map((system) => `${system} ${figures[system] ? `${figures[system].rps}/s p99 ${figures[system].p99}` : '–'}`).join(' | ')}` +
          ` | lede/directus ${ratio ?? '–'}\n`,
      );
    }
    for (const peer of ['directus', 'directusCached', 'strapi'] as const) peakRssMb[peer] = servers[peer]!.peakRssMb();
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }

  const results = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    dataset: { ...run.size, quick: run.quick, rounds: run.rounds, roundSeconds: run.roundSeconds, warmUpSeconds: run.warmUpSeconds },
    loadGenerator: run.loadGenerator,
    helloWorld: run.helloWorld,
    rows,
    peakRssMb,
    versions: { directus: directusVersion(), strapi: strapiVersion(), node: NODE22 },
    started: {
      lede: run.ledeStarted,
      baseline: run.baselineStarted,
      directus: directusStarted(false),
      directusCached: directusStarted(true),
      strapi: strapiStarted,
    },
    /** The same rows: the content tables filled from Lede's database; the same indexes on them. */
    data: 'copied from Lede\'s database by SQL (dblink) after each peer created its own tables; integer ids from the generated names',
    indexes: { directus: DIRECTUS_INDEXES, strapi: STRAPI_INDEXES },
    verified,
    peersSeconds: Math.round((Date.now() - started) / 1000),
  };
  if (!run.only) writeFileSync(PEERS_RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `peers: peak RSS (MB) ${Object.entries(peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', ')}; ` +
      `${run.only ? `a partial run: ${PEERS_RESULTS_FILE} left as it was` : `wrote ${PEERS_RESULTS_FILE}`} after ${results.peersSeconds} s\n`,
  );
}

