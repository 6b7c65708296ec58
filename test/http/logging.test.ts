import t from 'tap';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { freshDatabase, json } from '../helper.js';

// The app's own logger (with its redaction), at the chattiest level, writing into this array.
interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  req?: unknown;
  res?: unknown;
  err?: { message?: string };
}
const lines: string[] = [];
const logger = createLogger({ LOG_LEVEL: 'trace' }, { write: (line: string) => void lines.push(line) });
const { database, drop } = await freshDatabase();
const config = configFrom({ LOG_LEVEL: 'trace', DEMO_CONTENT: 'false' });
const app = await buildApp(config, { database, logger });
t.teardown(async () => {
  await app.close();
  await drop();
});

const PINO_ERROR = 50;
const BOOM = 'boom: an unexpected failure';

// A route that fails the way a bug would, after logging the request's headers, and throwing an
// error that carries them (as HTTP client errors do): the key must still never reach a log line.
app.get('/test/boom', { config: { access: 'reader' } }, async (request) => {
  request.log.info({ headers: request.headers }, 'about to fail');
  throw Object.assign(new Error(BOOM), { headers: request.headers });
});
await app.ready();

const { key } = await keysService(database.db).create({ role: 'editor', name: 'logging test' });
const secretPart = key.slice(-16);
const parsed = () => lines.map((line) => JSON.parse(line) as LogLine);

t.test('a 5xx is logged once, with the request id, and never with the key', async (t) => {
  lines.length = 0;
  const response = await app.inject({
    url: '/test/boom',
    headers: { authorization: `Bearer ${key}`, 'x-request-id': 'log-test-boom' },
  });
  t.equal(response.statusCode, 500);
  t.equal(json(response).code, 'INTERNAL_ERROR');
  t.equal(json(response).requestId, 'log-test-boom');
  t.notMatch(response.body, BOOM, 'the client never sees the error text');

  const forRequest = parsed().filter((line) => line.reqId === 'log-test-boom');
  t.ok(forRequest.length >= 3, `${forRequest.length} lines carry the request id`);
  const errors = parsed().filter((line) => line.level >= PINO_ERROR);
  t.equal(errors.length, 1, 'logged once');
  t.equal(errors[0]?.reqId, 'log-test-boom', 'with the request id');
  t.equal(errors[0]?.err?.message, BOOM, 'with the error');

  t.ok(lines.some((line) => line.includes('about to fail')), 'the headers line was written');
  for (const line of lines) {
    t.notOk(line.includes(key) || line.includes(secretPart), 'no key in any log line');
  }
  t.notOk(lines.some((line) => /bearer/i.test(line)), 'no Authorization value at all');
});

t.test('every line about a request carries its request id; 4xx are not logged as errors', async (t) => {
  lines.length = 0;
  const requests = [
    { url: '/v1/tags', headers: { authorization: `Bearer ${key}` } },
    { url: '/v1/tags', headers: { authorization: 'Bearer lede_notakey_0123456789abcdef' } },
    { url: '/v1/articles/no-such-article' },
    { url: '/no/such/route' },
    { method: 'POST' as const, url: '/v1/tags', headers: { authorization: `Bearer ${key}` }, payload: '{"name":' },
  ];
  const ids = new Set<string>();
  for (const request of requests) {
    const response = await app.inject(request);
    t.ok(response.statusCode < 500, `${request.url}: ${response.statusCode}`);
    ids.add(String(response.headers['x-request-id']));
  }
  const all = parsed();
  const aboutRequests = all.filter((line) => line.req !== undefined || line.res !== undefined);
  t.ok(aboutRequests.length >= requests.length * 2, 'incoming and completed lines for each request');
  for (const line of aboutRequests) {
    t.ok(line.reqId && ids.has(line.reqId), `"${line.msg}" carries a request id`);
  }
  t.equal(all.filter((line) => line.level >= PINO_ERROR).length, 0, 'client errors are not logged as errors');
  t.notOk(lines.some((line) => line.includes(key) || line.includes('lede_notakey')), 'no key, valid or not');
});
