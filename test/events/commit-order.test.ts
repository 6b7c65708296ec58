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

  t.test('events are numbered as their transactions commit, not as they are written', async (t) => {
    const [first, second, reader] = (await connections(3)) as [pg.Client, pg.Client, pg.Client];
    const append = (client: pg.Client, type: string) => client.query(`insert into events (type, public, data) values ($1, true, '{}')`, [type]);
    const idOf = async (type: string) => Number((await reader.query('select id from events where type = $1', [type])).rows[0]?.id);

    await first.query('begin');
    await append(first, 'written first');
    await second.query('begin');
    await append(second, 'written second');
    t.same(await ids(reader, 0), [], 'a reader sees neither while both are open');

    await second.query('commit');
    const secondId = await idOf('written second');
    t.same(await ids(reader, 0), [secondId], 'the first to commit is numbered first, and is all a reader sees');
    await first.query('commit');
    const firstId = await idOf('written first');
    t.ok(firstId > secondId, 'the later commit has the higher id, though it was written first');
    t.same(await ids(reader, secondId), [firstId], 'a reader at the first id finds the second');
  });

  t.test('concurrent writers and a polling reader: nothing skipped, nothing repeated', async (t) => {
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
          await client.query(`insert into events (type, public, data) values ('w${w}', true, '{}')`);
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

async function ids(client: pg.Client, after: number, limit = 50): Promise<number[]> {
  const result = await client.query('select id from events where id > $1 order by id limit $2', [after, limit]);
  return result.rows.map((row: { id: string }) => Number(row.id));
}
