/**
 * `npx tsx bench/table.ts` prints bench/results/latest.json as the Markdown table used in
 * docs/performance.md, so the document's figures are the run's, not retyped.
 */
import { readFileSync } from 'node:fs';

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}
interface Results {
  dataset: { articles: number; timeline: number; tags: number; durationSeconds: number; connections: number };
  peakRssMb: Record<string, number>;
  rows: { endpoint: string; lede: Figures; baseline: Figures; ratio: number | null }[];
  webhookDelivery?: { events: number; received: number; writeSeconds: number; afterLastWriteSeconds: number; totalSeconds: number } | null;
}

const results = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8')) as Results;
const number = (value: number) => value.toLocaleString('en-US');
const lines = [
  '| endpoint | Lede req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms | Lede / baseline |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.rows.map(
    (row) =>
      `| ${row.endpoint} | ${number(row.lede.rps)} | ${row.lede.p50} / ${row.lede.p99} | ${number(row.baseline.rps)} | ` +
      `${row.baseline.p50} / ${row.baseline.p99} | ${row.ratio ?? '–'} |`,
  ),
];
const { dataset, peakRssMb } = results;
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(
  `Dataset: ${number(dataset.articles)} articles, ${number(dataset.timeline)} timeline entries, ${dataset.tags} tags; ` +
    `${dataset.durationSeconds} s per endpoint and server, ${dataset.connections} connections (10 for writes). ` +
    `Peak RSS (MB): ${Object.entries(peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', ')}.\n`,
);
const delivery = results.webhookDelivery;
if (delivery) {
  process.stdout.write(
    `\nWebhook delivery: ${number(delivery.received)} of ${number(delivery.events)} events reached a loopback receiver; ` +
      `the writes took ${delivery.writeSeconds} s and the last delivery came ${delivery.afterLastWriteSeconds} s after the last write ` +
      `(${delivery.totalSeconds} s from the first).\n`,
  );
}

