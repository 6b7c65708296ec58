import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { buildTestApp } from '../helper.js';

/**
 * Requests Node refuses before Fastify sees them (a malformed request line, headers over the size
 * limit, a client too slow to send its headers). They never reach routing, so app.inject cannot
 * make them: this file listens on a port and talks raw HTTP/1.1 over a socket.
 */

const HEADERS_TIMEOUT_MS = 300;
const { app } = await buildTestApp(t, { env: { HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), REQUEST_TIMEOUT_MS: '600' } });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;

/** Longest a test waits for the server to answer and close (the timeout check runs once a second). */
const ANSWER_DEADLINE_MS = 5_000;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `chunks` (the later ones after `pauseMs`) and reads until the server closes the connection. */
function rawExchange(chunks: string[], pauseMs = 0): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${ANSWER_DEADLINE_MS} ms`));
    }, ANSWER_DEADLINE_MS);
    socket.on('connect', async () => {
      for (const [index, chunk] of chunks.entries()) {
        if (index > 0) await new Promise((wait) => setTimeout(wait, pauseMs));
        if (!socket.destroyed) socket.write(chunk);
      }
    });
    socket.on('data', (data) => received.push(data));
    socket.on('error', () => {}); // a reset after the answer: what was read still counts
    socket.on('close', () => {
      clearTimeout(deadline);
      const text = Buffer.concat(received).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? 0), headers, body });
    });
  });
}

function assertProblem(t: Test, response: RawResponse, status: number, code: string): void {
  t.equal(response.status, status, `status ${status}`);
  t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(response.headers['x-content-type-options'], 'nosniff', 'the security headers are sent');
  t.equal(response.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  t.equal(response.headers['cache-control'], 'no-store');
  t.equal(response.headers.connection, 'close');
  t.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body), 'Content-Length matches the body');
  const problem = JSON.parse(response.body) as Record<string, unknown>;
  t.equal(problem.code, code, `code ${code}`);
  t.equal(problem.status, status);
  t.equal(problem.type, `urn:lede:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  t.type(problem.title, 'string');
  t.type(problem.detail, 'string');
  t.equal(problem.requestId, response.headers['x-request-id'], 'the request id is in the body and the header');
  t.notMatch(response.body, /\n\s+at |node_modules|HPE_|Parse Error/, 'no stack trace or parser text');
}

t.test('a bare CR in the request line or a header is 400 MALFORMED_REQUEST as problem+json', async (t) => {
  assertProblem(t, await rawExchange(['GET /v1/tags\rX HTTP/1.1\r\nHost: lede\r\n\r\n']), 400, 'MALFORMED_REQUEST');
  assertProblem(t, await rawExchange(['GET /v1/tags HTTP/1.1\r\nHost: lede\r\nX-Note: a\rb\r\n\r\n']), 400, 'MALFORMED_REQUEST');
});

t.test('headers over the size limit are 431 HEADERS_TOO_LARGE as problem+json', async (t) => {
  const oversize = 'a'.repeat(20_000); // Node's limit is 16 KB
  assertProblem(t, await rawExchange([`GET /v1/tags HTTP/1.1\r\nHost: lede\r\nX-Big: ${oversize}\r\n\r\n`]), 431, 'HEADERS_TOO_LARGE');
});

t.test('a client too slow to send its headers gets 408 REQUEST_TIMEOUT as problem+json', async (t) => {
  const started = Date.now();
  // The headers never end: the second chunk comes after the timeout has fired.
  const response = await rawExchange(['GET /v1/tags HTTP/1.1\r\nHost: lede\r\n', 'X-Late: yes\r\n'], ANSWER_DEADLINE_MS - 1_000);
  assertProblem(t, response, 408, 'REQUEST_TIMEOUT');
  t.ok(Date.now() - started >= HEADERS_TIMEOUT_MS, 'not before the headers timeout');
});

t.test('a well-formed request on the same server is answered as usual', async (t) => {
  const response = await rawExchange(['GET /healthz HTTP/1.1\r\nHost: lede\r\nConnection: close\r\n\r\n']);
  t.equal(response.status, 200);
  t.equal(response.headers['x-content-type-options'], 'nosniff');
});

t.test('the API document lists these codes among the problems', async (t) => {
  const document = (await app.inject({ url: '/openapi.json' })).json<{
    components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } };
  }>();
  for (const code of ['MALFORMED_REQUEST', 'HEADERS_TOO_LARGE', 'REQUEST_TIMEOUT']) {
    t.ok(document.components.schemas.Problem.properties.code.enum.includes(code), code);
  }
});
