import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './app-error.js';

/** Seconds a client is told to wait before retrying a request refused during shutdown. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Once shutdown begins, a request that still arrives (pipelined, or on a keep-alive connection
 * that was busy when the server stopped listening) is refused with 503 problem+json and
 * Retry-After, like every other 503, so a client or balancer retries it on another process.
 * Fastify's own answer (return503OnClosing) is bare JSON without those headers, and is off.
 */
export const drainingPlugin = fp(
  async function draining(app: FastifyInstance) {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async () => {
      if (!closing) return;
      throw new AppError('SERVICE_UNAVAILABLE', 'This server is shutting down; retry, and another will answer.', undefined, {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    });
  },
  { name: 'lede-draining' },
);
