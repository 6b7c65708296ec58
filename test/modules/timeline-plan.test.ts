import { sql } from 'drizzle-orm';
import t from 'tap';
import { entriesQuery } from '../../src/modules/timeline/timeline.repository.js';
import { ANONYMOUS } from '../../src/modules/articles/visibility.js';
import { buildTestApp } from '../helper.js';

/**
 * The timeline must be as cheap 80% deep as on its first page. With keyset paging that holds when
 * the page query is an index range scan that starts at the cursor and stops after `limit` rows:
 * no sort, no scan over the rows before the cursor. The plans are checked on a table big enough
 * for the planner to care (the benchmark measures the same at 1,000,000 entries).
 */
const ENTRIES = 50_000;
const PAGE = 20;

const { app } = await buildTestApp(t);
const db = app.database.db;
await db.execute(sql`insert into timeline_entries (occurred_at, locale, title, live_at)
  select timestamptz '2024-01-01' + make_interval(secs => g * 60), case when g % 5 = 0 then 'uk' else 'en' end, 'Entry ' || g, timestamptz '2024-01-01'
  from generate_series(1, ${ENTRIES}) as g`);
await db.execute(sql`analyze timeline_entries`);

type PlanNode = {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
};

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(query: Parameters<typeof entriesQuery>[1]) {
  const result = await db.execute(sql`explain (analyze, format json) ${entriesQuery(db, query)}`);
  const rows = (result as unknown as { rows: { 'QUERY PLAN': unknown }[] }).rows ?? (result as unknown as { 'QUERY PLAN': unknown }[]);
  const raw = rows[0]!['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  return nodes(parsed[0]!.Plan);
}

const UK_SHARE = 0.2; // every fifth entry is in Ukrainian

async function cursorAtDepth(fraction: number, locale?: string) {
  const offset = Math.floor(ENTRIES * (locale === 'uk' ? UK_SHARE : 1) * fraction);
  const result = await db.execute(sql`select occurred_at, id from timeline_entries
    ${locale ? sql`where locale = ${locale}` : sql``} order by occurred_at desc, id desc offset ${offset} limit 1`);
  const rows = (result as unknown as { rows: { occurred_at: string | Date; id: string }[] }).rows ?? (result as unknown as { occurred_at: string; id: string }[]);
  return { occurredAt: new Date(rows[0]!.occurred_at), id: rows[0]!.id };
}

for (const locale of [undefined, 'uk']) {
  t.test(`pages ${locale ? `of one locale ` : ''}are index range scans, first and 80% deep`, async (t) => {
    for (const [name, cursor] of [['first page', undefined], ['80% deep', await cursorAtDepth(0.8, locale)]] as const) {
      const planNodes = await plan({ viewer: ANONYMOUS, locale, limit: PAGE + 1, cursor });
      const types = planNodes.map((node) => node['Node Type']);
      t.notOk(types.includes('Sort'), `${name}: no sort`);
      t.notOk(types.includes('Seq Scan'), `${name}: no sequential scan`);
      const scan = planNodes.find((node) => node['Index Name']?.startsWith('timeline_entries_'));
      // With a locale the planner may walk either index; on the global one it skips the other
      // locales' rows, a bounded number per page (here four in five rows).
      t.match(scan?.['Index Name'], /^timeline_entries_(locale_)?occurred_idx$/, `${name}: walks an (occurred_at, id) index`);
      t.ok((scan?.['Actual Rows'] ?? Infinity) <= PAGE + 1, `${name}: returns only the page's rows (${scan?.['Actual Rows']})`);
      const skipped = scan?.['Rows Removed by Filter'] ?? 0;
      t.ok(skipped <= (PAGE + 1) * (1 / UK_SHARE), `${name}: skips a bounded number of rows (${skipped})`);
    }
  });
}
