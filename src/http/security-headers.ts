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

/** HSTS for a year; sent only when the public base URL is https (browsers ignore it over http). */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

export const securityHeadersPlugin = fp<{ hsts: boolean }>(
  async function securityHeaders(app: FastifyInstance, { hsts }) {
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
      if (hsts) reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
      return payload;
    });
  },
  { name: 'lede-security-headers' },
);
