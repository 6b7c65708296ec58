import pg from 'pg';
import t from 'tap';
import { databaseUnderTest, freshDatabase } from '../helper.js';

/*
 * The change log hands out ids in commit order (docs/adr/0012-event-log-commit-order.md): a
 * reader that has seen id N never finds an id below N later. Needs concurrent connections: PostgreSQL.
 */
if (databaseUnderTest !== 'postgres') {
  t.pass('skipped: commit order needs concurrent connections, which the embedded database does not have (the PostgreSQL pass runs it)');
} else {
  const { database, url, drop } = await freshDatabase();
  t.teardown(async () => {
    await database.close();
    await drop();
  });

  /*
   * Writes hand their events to the transaction (events_append), which writes them numbered as it
   * commits (docs/adr/0017-events-written-at-commit.md); a row inserted directly (a process of the
   * previous version, SQL by hand) is numbered at commit too. Both must keep commit order.
   */
  const appenders: Record<string, (client: pg.Client, type: string) => Promise<unknown>> = {
    'as writes append (events_append)': (client, type) =>
      client.query(`select events_append(jsonb_build_array(jsonb_build_object('type', $1::text, 'public', true, 'data', '{}'::jsonb)))`, [type]),
    'inserted directly': (client, type) => client.query(`insert into events (type, public, data) values ($1, true, '{}')`, [type]),
  };

  for (const [how, append] of Object.entries(appenders)) {
  t.test(`${how}: events are numbered as their transactions commit, not as they are written`, async (t) => {
    const [first, second, reader] = (await connections(3)) as [pg.Client, pg.Client, pg.Client];
    const head = Number((await reader.query('select coalesce(max(id), 0) as head from events')).rows[0].head);
    const idOf = async (type: string) => Number((await reader.query('select max(id) as id from events where type = $1', [type])).rows[0]?.id);

    await first.query('begin');
    await append(first, 'written first');
    await second.query('begin');
    await append(second, 'written second');
    t.same(await ids(reader, head), [], 'a reader sees neither while both are open');

    await second.query('commit');
    const secondId = await idOf('written second');
    t.same(await ids(reader, head), [secondId], 'the first to commit is numbered first, and is all a reader sees');
    await first.query('commit');
    const firstId = await idOf('written first');
    t.ok(firstId > secondId, 'the later commit has the higher id, though it was written first');
    t.same(await ids(reader, secondId), [firstId], 'a reader at the first id finds the second');
  });

  t.test(`${how}: concurrent writers and a polling reader: nothing skipped, nothing repeated`, async (t) => {
    const writers = await connections(6);
    const [reader] = (await connections(1)) as [pg.Client];
    const before = (await ids(reader, 0, 100_000)).length;
    const seen: number[] = [];
    let writing = true;
    const polling = (async () => {
      let last = 0;
      while (writing || (await ids(reader, last)).length > 0) {
        const page = await ids(reader, last);
        seen.push(...page);
        if (page.length > 0) last = page.at(-1)!;
      }
    })();
    await Promise.all(
      writers.map(async (client, w) => {
        for (let i = 0; i < 40; i += 1) {
          await client.query('begin');
          // Work of random length before the append, as a write has; some writes roll back.
          await client.query(`select pg_sleep(${(Math.random() * 3) / 1000})`);
          await append(client, `w${w}`);
          await client.query(i % 10 === 9 ? 'rollback' : 'commit');
        }
      }),
    );
    writing = false;
    await polling;
    const all = await ids(reader, 0, 100_000);
    t.equal(all.length - before, 6 * 36, 'every committed event is in the log');
    t.same(seen, all, 'the reader saw each one once, in id order');
  });
  }

  t.test("a transaction's appends keep their order, a rolled-back savepoint takes its own, and each event row is written once", async (t) => {
    const [writer, reader] = (await connections(2)) as [pg.Client, pg.Client];
    const append = appenders['as writes append (events_append)']!;
    const updatesBefore = await eventRowUpdates(reader);
    await writer.query('begin');
    await append(writer, 'kept 1');
    await writer.query('savepoint partial');
    await append(writer, 'dropped');
    await writer.query('rollback to savepoint partial');
    await append(writer, 'kept 2');
    await append(writer, 'kept 3');
    await writer.query('commit');
    const written = await reader.query(`select type from events where type in ('kept 1', 'kept 2', 'kept 3', 'dropped') order by id`);
    t.same(
      written.rows.map((row: { type: string }) => row.type),
      ['kept 1', 'kept 2', 'kept 3'],
      'in the order appended, without the rolled-back one',
    );
    t.equal((await reader.query('select count(*)::int as n from event_commit_hooks')).rows[0].n, 0, 'nothing is left behind for the next transaction');
    await writer.query('begin');
    await append(writer, 'rolled back');
    await writer.query('rollback');
    await writer.query('begin');
    await append(writer, 'after a rollback');
    await writer.query('commit');
    const after = await reader.query(`select type from events where type in ('rolled back', 'after a rollback')`);
    t.same(after.rows.map((row: { type: string }) => row.type), ['after a rollback'], "a rolled-back transaction's events go nowhere, and do not leak into the next");
    t.equal(await eventRowUpdates(reader), updatesBefore, 'no event row was updated after its insert (no second row version)');
  });

  async function connections(n: number): Promise<pg.Client[]> {
    const clients = await Promise.all(
      Array.from({ length: n }, async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        return client;
      }),
    );
    t.teardown(() => Promise.all(clients.map((client) => client.end())));
    return clients;
  }
}

/** Row updates on the events table so far, from the statistics (flushed first, as a backend reports at its own pace). */
async function eventRowUpdates(client: pg.Client): Promise<number> {
  await client.query('select pg_stat_force_next_flush()');
  const result = await client.query(`select n_tup_upd::int as n from pg_stat_user_tables where relname = 'events'`);
  return result.rows[0].n as number;
}

async function ids(client: pg.Client, after: number, limit = 50): Promise<number[]> {
  const result = await client.query('select id from events where id > $1 order by id limit $2', [after, limit]);
  return result.rows.map((row: { id: string }) => Number(row.id));
}
