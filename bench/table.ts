/**
 * `npm run bench:table` prints bench/results/latest.json as the Markdown table used in
 * docs/performance.md, so the document's figures are the run's, not retyped; with `-- --peers`,
 * bench/results/peers.json's table (bench/peers/table.ts).
 */
import { readFileSync } from 'node:fs';
import { printPeersTable } from './peers/table.js';

// `npm run bench:table -- --peers`: the peers' table (bench/results/peers.json) instead.
if (process.argv.includes('--peers')) {
  printPeersTable();
  process.exit(0);
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}
interface Results {
  dataset: { articles: number; timeline: number; tags: number; quick?: boolean; durationSeconds: number; rounds?: number; connections: number; writeConnections?: number };
  loadGenerator?: { reads: string; writes: string };
  helloWorld?: Figures | null;
  timelineFirstPageOverHelloWorld?: number | null;
  baseline?: { listTags: string };
  peakRssMb: Record<string, number | null>;
  rows: { endpoint: string; kind?: string; generator?: string; lede: Figures; baseline: Figures; ratio: number | null }[];
  webhookDelivery?: { events: number; received: number; writeSeconds: number; afterLastWriteSeconds: number; totalSeconds: number } | null;
}

const results = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8')) as Results;
const number = (value: number) => value.toLocaleString('en-US');
const lines = [
  '| endpoint | kind | Lede req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms | Lede / baseline |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...(results.helloWorld
    ? [`| hello-world (bare Fastify) | – | – | – | ${number(results.helloWorld.rps)} | ${results.helloWorld.p50} / ${results.helloWorld.p99} | – |`]
    : []),
  ...results.rows.map(
    (row) =>
      `| ${row.endpoint} | ${row.kind ?? ''}${row.generator === 'autocannon' ? ' (autocannon)' : ''} | ${number(row.lede.rps)} | ${row.lede.p50} / ${row.lede.p99} | ` +
      `${number(row.baseline.rps)} | ${row.baseline.p50} / ${row.baseline.p99} | ${row.ratio ?? '–'} |`,
  ),
];
const { dataset, peakRssMb } = results;
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(
  `Dataset${dataset.quick ? ' (--quick)' : ''}: ${number(dataset.articles)} articles, ${number(dataset.timeline)} timeline entries, ${dataset.tags} tags; ` +
    `${dataset.durationSeconds} s per endpoint and server${dataset.rounds ? ` in ${dataset.rounds} alternating rounds` : ''}, ` +
    `${dataset.connections} connections (${dataset.writeConnections ?? 10} for writes). ` +
    (results.loadGenerator ? `Reads: ${results.loadGenerator.reads}; writes: ${results.loadGenerator.writes}. ` : '') +
    (results.baseline ? `Baseline list tags: ${results.baseline.listTags}. ` : '') +
    `Peak RSS (MB): ${Object.entries(peakRssMb).map(([name, mb]) => `${name} ${mb ?? '–'}`).join(', ')}.\n`,
);
if (results.timelineFirstPageOverHelloWorld !== undefined && results.timelineFirstPageOverHelloWorld !== null) {
  process.stdout.write(`\nBaseline timeline first page / hello-world: ${results.timelineFirstPageOverHelloWorld} (target at least 0.12).\n`);
}
const delivery = results.webhookDelivery;
if (delivery) {
  process.stdout.write(
    `\nWebhook delivery: ${number(delivery.received)} of ${number(delivery.events)} events reached a loopback receiver; ` +
      `the writes took ${delivery.writeSeconds} s and the last delivery came ${delivery.afterLastWriteSeconds} s after the last write ` +
      `(${delivery.totalSeconds} s from the first).\n`,
  );
}
