import { connect } from 'node:net';
import t from 'tap';
import { buildTestApp } from '../helper.js';

// During shutdown, a request that still reaches the server (pipelined behind one in flight) is
// answered 503 problem+json with Retry-After, as the document promises for every 503.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a request arriving during shutdown is 503 problem+json with Retry-After; the one in flight finishes', async (t) => {
  const { app, authAs } = await buildTestApp(t);
  const editor = await authAs('editor');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  /** A raw connection, and everything it receives until it closes. */
  async function rawConnection() {
    const socket = connect(port, '127.0.0.1');
    const state = { received: '' };
    socket.on('data', (chunk) => (state.received += chunk.toString('utf8')));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, state, ended };
  }

  // One request in flight (its body comes late), and another whose headers are still arriving
  // when shutdown begins: neither connection is idle, so both stay open.
  const inFlight = await rawConnection();
  const late = await rawConnection();
  const body = JSON.stringify({ name: 'Shutdown', locale: 'en' });
  inFlight.socket.write(
    `POST /v1/tags HTTP/1.1\r\nHost: lede.test\r\nAuthorization: ${editor.authorization}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
  );
  late.socket.write('GET /v1/tags HTTP/1.1\r\nHost: lede.test\r\n');
  await sleep(200);
  const closed = app.close();
  await sleep(100);
  late.socket.write('Accept: application/json\r\n\r\n');
  inFlight.socket.write(body);
  // Until both answers are in (each connection then closes).
  const answered = () => /\r\n\r\n\{/.test(inFlight.state.received) && /SERVICE_UNAVAILABLE/.test(late.state.received);
  for (let waited = 0; waited < 5_000 && !answered(); waited += 50) await sleep(50);
  inFlight.socket.destroy();
  late.socket.destroy();
  await closed;
  const received = `${inFlight.state.received}${late.state.received}`;
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  t.match(responses[0], /^HTTP\/1\.1 201 /, 'the request in flight finishes');
  const refused = responses[1] ?? '';
  t.match(refused, /^HTTP\/1\.1 503 /, 'the next one is refused');
  t.match(refused, /\r\ncontent-type: application\/problem\+json/i);
  t.match(refused, /\r\nretry-after: 1\r\n/i);
  t.match(refused, /\r\nx-content-type-options: nosniff\r\n/i);
  t.match(refused, /\r\nconnection: close\r\n/i);
  t.match(refused, /"code":"SERVICE_UNAVAILABLE"/);
});
