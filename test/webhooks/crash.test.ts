import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { databaseUnderTest, freshDatabase } from '../helper.js';
import { freePort } from '../process/throwaway-postgres.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { appendEvent, eventually } from './webhook-helper.js';

/**
 * The real server process, killed with SIGKILL while its receiver is down: the delivery is in
 * the database, so the next process sends it. On PostgreSQL and on the embedded database's data
 * directory.
 */
t.setTimeout(120_000);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function startServer(t: Test, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'close');
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const listening = eventually('the server to listen', async () => /Server listening/.test(output), 60_000);
  return { child, exited, listening, output: () => output };
}

/** The receiver, back up on its port: answers 204 and keeps the headers of what it got. */
async function receiverUp(t: Test, port: number): Promise<http.IncomingHttpHeaders[]> {
  const received: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((request, response) => {
    received.push(request.headers);
    request.resume();
    response.writeHead(204).end();
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return received;
}

t.test('a delivery survives SIGKILL of its sender', { skip: databaseUnderTest === 'postgres' ? false : 'PostgreSQL only' }, async (t) => {
  const { database, url, drop } = await freshDatabase();
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  const [apiPort, receiverPort] = [await freePort(), await freePort()];
  const env = {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATABASE_URL: String(url),
    DEMO_CONTENT: 'false',
    LOG_LEVEL: 'info',
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_MS: '200',
  };
  const { key } = await keysService(database.db).create({ role: 'admin', name: 'crash admin' });

  const first = startServer(t, env);
  await first.listening;
  const created = await fetch(`http://127.0.0.1:${apiPort}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, events: ['tag.*'] }),
  });
  t.equal(created.status, 201);
  const eventId = await appendEvent(database, 'tag.created');
  // The receiver is down: attempts fail (connection refused) and are recorded.
  await eventually('a failed attempt', async () => {
    const result = (await database.db.execute(sql`select count(*)::integer as n from webhook_attempts`)) as unknown as { rows: { n: number }[] };
    return Number(result.rows[0]?.n) > 0;
  });
  first.child.kill('SIGKILL');
  await first.exited;

  const received = await receiverUp(t, receiverPort);
  await startServer(t, env).listening;
  await eventually('the delivery after the restart', async () => received.length > 0, 60_000);
  t.equal(received[0]?.['webhook-id'], String(eventId), 'the event, sent by the new process');
  // The receiver answers before the sender records the success: wait for the record.
  const statuses = await eventually('the recorded success', async () => {
    const result = (await database.db.execute(sql`select status from webhook_deliveries`)) as unknown as { rows: { status: string }[] };
    return result.rows.every((row) => row.status === 'succeeded') ? result.rows : null;
  });
  t.same(statuses, [{ status: 'succeeded' }], 'one delivery, recorded as delivered');
});

t.test('on the embedded database too: a delivery survives SIGKILL of its sender', { skip: databaseUnderTest === 'pglite' ? false : 'the PostgreSQL run has its own variant above' }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lede-crash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const [apiPort, receiverPort] = [await freePort(), await freePort()];
  const env = {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DEMO_CONTENT: 'false',
    LOG_LEVEL: 'info',
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_MS: '200',
  };
  // The keys CLI opens the data directory alone, before any server does.
  const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', 'create', '--role', 'admin', '--name', 'crash admin'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let printed = '';
  cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
  await once(cli, 'close');
  const key = printed.trimEnd().split('\n').at(-1)!;
  const api = `http://127.0.0.1:${apiPort}/v1`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  const first = startServer(t, env);
  await first.listening;
  const hook = (await (await fetch(`${api}/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, events: ['tag.*'] }) })).json()) as { id: string };
  t.equal((await fetch(`${api}/tags`, { method: 'POST', headers, body: JSON.stringify({ name: 'Energy' }) })).status, 201, 'a write emits tag.created');
  type Delivery = { eventId: string; status: string; attempts: unknown[] };
  const deliveries = async () => ((await (await fetch(`${api}/webhooks/${hook.id}/deliveries`, { headers })).json()) as { data: Delivery[] }).data;
  // The receiver is down: attempts fail (connection refused) and are recorded.
  await eventually('a failed attempt', async () => (await deliveries()).some((delivery) => delivery.attempts.length > 0));
  first.child.kill('SIGKILL');
  await first.exited;

  const received = await receiverUp(t, receiverPort);
  await startServer(t, env).listening;
  await eventually('the delivery after the restart', async () => received.length > 0, 60_000);
  const recorded = await eventually('the recorded success', async () => {
    const listed = await deliveries();
    return listed.every((delivery) => delivery.status === 'succeeded') ? listed : null;
  });
  t.equal(recorded.length, 1, 'one delivery');
  t.equal(received[0]?.['webhook-id'], recorded[0]?.eventId, 'the event, sent by the new process');
});
