import t from 'tap';
import { buildTestApp, json } from '../helper.js';
import { openStream, type SseStream } from './sse-client.js';

const { app, authAs } = await buildTestApp(t, {
  env: { STREAM_MAX_CLIENTS: '3', STREAM_MAX_CLIENTS_PER_ADDRESS: '2', STREAM_BUFFER_BYTES: '65536', TRUST_PROXY: 'true' },
});
const editor = await authAs('editor');
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const streams: SseStream[] = [];
async function stream(from: string, headers: Record<string, string> = {}) {
  const opened = await openStream(`${base}/v1/events/stream`, { 'x-forwarded-for': from, ...headers });
  streams.push(opened);
  return opened;
}
t.teardown(() => streams.forEach((opened) => opened.close()));

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let waited = 0; waited < 10_000; waited += 25) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await app.inject({ url: '/metrics' })).body)?.[1] ?? NaN);

t.test('streams per address and per process are limited, and a closed stream frees its place', async (t) => {
  const first = await stream('203.0.113.1');
  await stream('203.0.113.1');
  const refused = await stream('203.0.113.1');
  t.equal(refused.status, 429);
  t.match(JSON.parse(await refused.body()), { code: 'TOO_MANY_STREAMS', status: 429 });
  t.equal(first.status, 200);

  await stream('203.0.113.2');
  const full = await stream('203.0.113.3');
  t.equal(full.status, 503, 'the process is full');
  t.ok(full.headers['retry-after']);
  t.match(JSON.parse(await full.body()), { code: 'SERVICE_UNAVAILABLE' });
  t.equal(await metric('lede_event_streams_open'), 3);

  first.close();
  await until(async () => (await metric('lede_event_streams_open')) === 2, 'the closed stream to leave');
  const again = await stream('203.0.113.1');
  t.equal(again.status, 200, 'its place is free again');
  streams.splice(0).forEach((opened) => opened.close());
  await until(async () => (await metric('lede_event_streams_open')) === 0, 'every stream to close');
});

t.test('a client that stops reading is dropped once its backlog outgrows the bound; one that reads is not', async (t) => {
  const article = json<{ id: string; version: number }>(
    await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Long read' } }),
  );
  const slow = await stream('198.51.100.1', { authorization: editor.authorization });
  const reading = await stream('198.51.100.2', { authorization: editor.authorization });
  slow.response.pause();
  // Each edit's event carries the whole article: about 90 KB each, several MB in all.
  const paragraph = 'x'.repeat(9_000);
  let version = article.version;
  for (let edit = 0; edit < 120 && !slow.response.destroyed; edit += 1) {
    const body = Array.from({ length: 10 }, () => ({ type: 'paragraph', text: `${edit} ${paragraph}` }));
    const response = await app.inject({ method: 'PATCH', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': `"v${version}"` }, payload: { body } });
    t.equal(response.statusCode, 200);
    version = json<{ version: number }>(response).version;
    if ((await metric('lede_event_streams_dropped_total{reason="slow"}')) > 0) break;
  }
  await until(async () => (await metric('lede_event_streams_dropped_total{reason="slow"}')) === 1, 'the slow stream to be dropped');
  const lastEdit = await reading.waitFor((event) => event.event === 'article.changed' && event.data!.includes(`"version":${version}`), 20_000);
  t.ok(lastEdit, 'the reading client got every edit and stays open');
  t.equal(await metric('lede_event_streams_open'), 1);
});

t.test('closing the app ends its streams', async (t) => {
  const open = await stream('192.0.2.1');
  t.equal(open.status, 200);
  await app.close();
  await open.ended;
  t.pass('the stream ended when the app closed');
});
