import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import type { DeliveryLimits } from '../../src/modules/webhooks/worker.js';
import { freshDatabase, json, type TestContext } from '../helper.js';

/** Fast enough for tests: quick polls and retries. */
export const TEST_LIMITS: Partial<DeliveryLimits> = { pollMs: 50, idlePollMs: 200 };

export interface WebhookApp {
  app: FastifyInstance;
  database: DatabaseHandle;
  admin: { authorization: string };
}

/** An app on its own fresh database (or on `database`, shared with another app), with an admin key. */
export async function webhookApp(
  t: TestContext,
  options: { env?: Record<string, string>; limits?: Partial<DeliveryLimits>; database?: DatabaseHandle } = {},
): Promise<WebhookApp> {
  const config = configFrom({
    LOG_LEVEL: 'silent',
    DEMO_CONTENT: 'false',
    RESPONSE_VALIDATION: 'true',
    RATE_LIMIT_MAX: '0',
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
    ...options.env,
  });
  const fresh = options.database ? null : await freshDatabase();
  const database = options.database ?? fresh!.database;
  const app = await buildApp(config, { database, logger: pino({ level: 'silent' }), webhookLimits: { ...TEST_LIMITS, ...options.limits } });
  t.teardown(async () => {
    await app.close();
    await fresh?.drop();
  });
  await app.ready();
  const { key } = await keysService(database.db).create({ role: 'admin', name: 'webhook admin' });
  return { app, database, admin: { authorization: `Bearer ${key}` } };
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Decides each answer: status, and optionally a body or a redirect. Defaults to 204. */
export type Responder = (request: Received, index: number) => { status: number; body?: string | Buffer; headers?: Record<string, string>; delayMs?: number };

/** A real HTTP receiver on 127.0.0.1 that records every request it gets. */
export async function receiver(t: TestContext, respond: Responder = () => ({ status: 204 })) {
  const received: Received[] = [];
  let responder = respond;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      const answer = responder(entry, received.length - 1);
      const send = () => {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    answerWith(next: Responder) {
      responder = next;
    },
  };
}

/** Appends an event to the log as a write would (only the fields webhooks read). */
export async function appendEvent(database: DatabaseHandle, type: string, id = crypto.randomUUID()): Promise<number> {
  const data = { id, surrogateKeys: [`thing:${id}`] };
  // The id is given at commit (docs/adr/0012): read it once the insert has committed.
  const inserted = await database.db.execute(sql`insert into events (type, public, data) values (${type}, true, ${JSON.stringify(data)}::jsonb) returning row_id`);
  const rowId = (inserted as unknown as { rows: { row_id: string | number }[] }).rows[0]?.row_id;
  const result = await database.db.execute(sql`select id from events where row_id = ${rowId}`);
  return Number((result as unknown as { rows: { id: string | number }[] }).rows[0]?.id);
}

export async function createWebhook(w: WebhookApp, payload: Record<string, unknown>): Promise<{ id: string; secret: string } & Record<string, unknown>> {
  const response = await w.app.inject({ method: 'POST', url: '/v1/webhooks', headers: w.admin, payload });
  if (response.statusCode !== 201) throw new Error(`POST /v1/webhooks answered ${response.statusCode}: ${response.body}`);
  return json(response);
}

export interface WireDelivery {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  nextAttemptAt: string | null;
  attempts: { responseStatus: number | null; error: string | null; responseTruncated: boolean; responseExcerpt: string | null; durationMs: number }[];
}

export async function deliveries(w: WebhookApp, webhookId: string, query = ''): Promise<WireDelivery[]> {
  const response = await w.app.inject({ url: `/v1/webhooks/${webhookId}/deliveries${query}`, headers: w.admin });
  if (response.statusCode !== 200) throw new Error(`deliveries answered ${response.statusCode}: ${response.body}`);
  return json<{ data: WireDelivery[] }>(response).data;
}

/** Polls until `check` returns something truthy, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
