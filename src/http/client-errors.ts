import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyBaseLogger } from 'fastify';
import { AppError } from './app-error.js';
import { problemBody } from './error-handler.js';
import { API_HEADERS, STRICT_TRANSPORT_SECURITY } from './security-headers.js';

/** What Node refuses before any request exists, by its error code; anything else is malformed HTTP. */
const CLIENT_ERRORS: Record<string, () => AppError> = {
  // The headers (HEADERS_TIMEOUT_MS) or the whole request (REQUEST_TIMEOUT_MS) came too slowly.
  ERR_HTTP_REQUEST_TIMEOUT: () => new AppError('REQUEST_TIMEOUT', 'The request was not received in time.'),
  HPE_HEADER_OVERFLOW: () => new AppError('HEADERS_TOO_LARGE', 'The request headers exceed the size limit.'),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: () => new AppError('PAYLOAD_TOO_LARGE', 'The chunk extensions exceed the size limit.'),
};

function malformed(): AppError {
  return new AppError('MALFORMED_REQUEST', 'The request is not valid HTTP/1.1 (check line endings and header syntax).');
}

/** A whole HTTP/1.1 response, written straight to the socket: there is no reply object to use. */
export function rawProblemResponse(error: AppError, requestId: string, hsts: boolean): string {
  const text = JSON.stringify(problemBody(error, requestId));
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    connection: 'close',
    'x-request-id': requestId,
    ...API_HEADERS,
    ...(hsts ? { 'strict-transport-security': STRICT_TRANSPORT_SECURITY } : {}),
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${head}\r\n${text}`;
}

/**
 * Fastify's clientErrorHandler: Node's own refusals (a bare CR or LF, headers over the size
 * limit, a client too slow to send its request) answered as problem+json with the security
 * headers, like every other error, instead of Fastify's default JSON. The connection is closed:
 * after a parse error nothing more on it can be trusted.
 */
export function clientErrorHandler(options: { hsts: boolean; log: FastifyBaseLogger }) {
  return function onClientError(error: ConnectionError, socket: Socket): void {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const problem = CLIENT_ERRORS[error.code]?.() ?? malformed();
    const requestId = randomUUID();
    // The error's code only: its raw packet may hold the request's headers, keys included.
    options.log.info({ requestId, reason: error.code, code: problem.code }, 'client error answered before routing');
    // As Node does: never write into a response that has already started (a request timeout can
    // fire while a handler is answering), or the client would read a corrupted answer.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) socket.write(rawProblemResponse(problem, requestId, options.hsts));
    socket.destroy();
  };
}
