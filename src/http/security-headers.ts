import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Headers that suit a JSON API. The docs page relaxes the content policy for its own assets. */
export const API_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

export const securityHeadersPlugin = fp(
  async function securityHeaders(app: FastifyInstance) {
    // Once shutdown begins, every response closes its connection: a keep-alive connection that
    // goes idle after close() started would otherwise hold the server open until the grace timer.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (closing) reply.header('connection', 'close');
      reply.header('x-request-id', request.id);
      for (const [name, value] of Object.entries(API_HEADERS)) {
        if (!reply.hasHeader(name)) reply.header(name, value);
      }
      return payload;
    });
  },
  { name: 'lede-security-headers' },
);
