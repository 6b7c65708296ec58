/**
 * `npm run bench:table -- --peers` prints bench/results/peers.json as the Markdown table for
 * docs/performance.md: req/s and p99 of each system per read, Lede / Directus (default), and below
 * it what the peers could not serve, their versions, peak RSS and how they were started.
 */
import { readFileSync } from 'node:fs';

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}
type Asked = { path: string; how?: string } | { path: null; reason: string };
const SYSTEMS = ['lede', 'baseline', 'directus', 'directusCached', 'strapi'] as const;
type Row = Record<(typeof SYSTEMS)[number], Figures | null> & {
  endpoint: string;
  ledeOverDirectus: number | null;
  asked: Record<string, Asked>;
};
interface PeersResults {
  dataset: { articles: number; timeline: number; tags: number; quick: boolean; rounds: number; roundSeconds: number };
  loadGenerator: string;
  helloWorld: Figures;
  rows: Row[];
  peakRssMb: Record<string, number>;
  versions: { directus: string; strapi: string };
  started: Record<string, string>;
}

export function printPeersTable(file = new URL('../results/peers.json', import.meta.url)): void {
  const results = JSON.parse(readFileSync(file, 'utf8')) as PeersResults;
  const number = (value: number) => value.toLocaleString('en-US');
  const cell = (figures: Figures | null) => (figures ? `${number(figures.rps)} (${figures.p99})` : '–');
  const lines = [
    '| read | Lede | baseline | Directus | Directus, cache on | Strapi | Lede / Directus |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| hello-world (bare Fastify) | – | ${cell(results.helloWorld)} | – | – | – | – |`,
    ...results.rows.map((row) => `| ${row.endpoint} | ${SYSTEMS.map((system) => cell(row[system])).join(' | ')} | ${row.ledeOverDirectus ?? '–'} |`),
  ];
  // What Directus (cached or not, the same request) and Strapi were asked, where it needs saying.
  const notes: string[] = [];
  for (const row of results.rows) {
    for (const system of ['directus', 'strapi']) {
      const asked = row.asked[system];
      if (asked) notes.push(`${row.endpoint}, ${system}: ${asked.path === null ? `not served (${asked.reason})` : (asked.how ?? '')}`);
    }
  }
  const { dataset } = results;
  process.stdout.write(`${lines.join('\n')}\n\n`);
  process.stdout.write(
    `Requests per second (p99 in ms). Dataset${dataset.quick ? ' (--quick)' : ''}: ${number(dataset.articles)} articles, ` +
      `${number(dataset.timeline)} timeline entries, ${dataset.tags} tags, the same rows and indexes in every system; ` +
      `${dataset.rounds} alternating rounds of ${dataset.roundSeconds} s per system and read; ${results.loadGenerator}. ` +
      `Directus ${results.versions.directus}, Strapi ${results.versions.strapi}. ` +
      `Peak RSS (MB): ${Object.entries(results.peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', ')}.\n\n`,
  );
  process.stdout.write(`${notes.map((note) => `- ${note}`).join('\n')}\n`);
  process.stdout.write(`\nStarted as:\n${Object.entries(results.started).map(([name, how]) => `- ${name}: \`${how}\``).join('\n')}\n`);
}
