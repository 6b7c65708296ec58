import http from 'node:http';
import https from 'node:https';
import type { FilteringAgents } from './webhook-target.js';

export interface SendLimits {
  /** The whole exchange (connect, send, answer) must finish within this. */
  timeoutMs: number;
  /** Bytes of the answer read at most; the rest is not waited for. */
  maxResponseBytes: number;
}

export interface SendOutcome {
  /** The receiver's status, or null when none came. */
  status: number | null;
  /** Why the attempt failed without a status, or what was wrong with the one that came. */
  error: string | null;
  ok: boolean;
  excerpt: string | null;
  truncated: boolean;
  durationMs: number;
}

/** What an attempt keeps of the answer: enough to debug a receiver, little enough to store for each attempt. */
const EXCERPT_CHARS = 1024;
const USER_AGENT = 'Lede-Webhooks/1';

/**
 * One POST to a webhook. Redirects are not followed (Node's client never does): a 3xx is a failed
 * attempt, so a receiver cannot send the request somewhere the address check did not see. Any
 * 2xx within the time limit is success; the answer is read only up to the byte limit.
 */
export function sendDelivery(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: SendLimits & { agents: FilteringAgents; signal: AbortSignal },
): Promise<SendOutcome> {
  const started = performance.now();
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    let truncated = false;
    let status: number | null = null;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      request.destroy();
      const ok = error === null && status !== null && status >= 200 && status < 300;
      const excerpt = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS) : null;
      const statusError = error ?? (ok || status === null ? null : `The receiver answered ${status}`);
      resolve({ status, error: statusError, ok, excerpt, truncated, durationMs: Math.round(performance.now() - started) });
    };
    const request = client.request(url, {
      method: 'POST',
      agent: options.agents.forUrl(url),
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': USER_AGENT,
      },
    });
    const timer = setTimeout(() => finish(`No complete answer within ${options.timeoutMs} ms`), options.timeoutMs);
    const onAbort = () => finish('The sender stopped (shutdown) before an answer came');
    options.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(describeError(error)));
    request.on('response', (response) => {
      status = response.statusCode ?? null;
      response.on('data', (chunk: Buffer) => {
        const room = options.maxResponseBytes - received;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          received += room;
          truncated = true;
          finish(null);
          return;
        }
        chunks.push(chunk);
        received += chunk.length;
      });
      response.on('end', () => finish(null));
      response.on('error', (error) => finish(describeError(error)));
    });
    request.end(body);
  });
}

function describeError(error: Error & { code?: string }): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
