import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Honour a caller's X-Request-Id so a request can be followed across services, but only when it
 * is short and plain: it goes into every log line, and a hostile one must not forge log content.
 */
export function requestIdFrom(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given)) return given;
  return randomUUID();
}
