import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

/** How long a test listens to an event stream before hanging up: the answer's head is what it checks. */
const LISTEN_MS = 50;

const isEventStream = (url: string) => url.split('?')[0] === '/v1/events/stream';

/**
 * app.inject, except that an event stream (which never ends by itself) is read for a moment and
 * then hung up, as a client closing it would, so its place is freed; the answer holds what came.
 */
export async function injectOrListen(app: FastifyInstance, options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
  if (!isEventStream(options.url)) return app.inject(options);
  const response = await app.inject({ ...options, payloadAsStream: true });
  const chunks: Buffer[] = [];
  const stream = response.stream();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, LISTEN_MS);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.once('error', () => resolve());
  });
  (response.raw.res as unknown as { destroy(): void }).destroy();
  const body = Buffer.concat(chunks).toString('utf8');
  return Object.assign(Object.create(response) as LightMyRequestResponse, {
    body,
    payload: body,
    rawPayload: Buffer.concat(chunks),
    json: () => JSON.parse(body) as unknown,
  });
}
