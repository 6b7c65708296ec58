import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/app-error.js';
import { API_HEADERS, STRICT_TRANSPORT_SECURITY } from '../../http/security-headers.js';
import { problemResponses } from '../../http/openapi.js';
import { EVENT_TYPES, typesMatching } from '../../events/event-types.js';
import { eventFrame, LIVE_PAGE, type LiveFollower } from '../../events/live-hub.js';
import type { LiveStreams } from '../../events/live.plugin.js';
import type { Database } from '../../db/database.js';
import { eventsAfter, sweptThrough } from './events.repository.js';
import { EventId, EventQuery } from './events.schemas.js';

const OPENAPI_TAG = 'Events';
/** How long EventSource waits before reconnecting after the stream ends. */
const RETRY_MS = 3_000;
/** Seconds a client refused because this process is full is told to wait (another may have room). */
const FULL_RETRY_AFTER_SECONDS = 5;

const StreamQuery = EventQuery.pick({ after: true, types: true });
const StreamHeaders = z.object({
  'last-event-id': EventId.optional().meta({ description: 'The id of the last event received (EventSource sends it when it reconnects); wins over `after`' }),
});

const EventStream = z.string().meta({
  description:
    'Server-Sent Events: each event as `id:` (its id), `event:` (its type) and `data:` (the event as `GET /v1/events` lists it, on one line); ' +
    '`retry:` once at the start; a comment line (`: heartbeat`) every 15 seconds; `event: events.expired` (then the end) when the resume point is older than the retention.',
  example: 'retry: 3000\n\nid: 4128\nevent: article.published\ndata: {"id":"4128","type":"article.published","occurredAt":"2024-11-22T18:00:00.000Z","data":{"id":"3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f","surrogateKeys":["articles"]}}\n\n',
});

function expiredFrame(after: number, swept: number): Buffer {
  const detail = `Events up to id ${swept} are no longer kept (the stream resumed after ${after}); resync from the lists, then follow from the newest id.`;
  return Buffer.from(`event: events.expired\ndata: ${JSON.stringify({ after: String(after), sweptThrough: String(swept), detail })}\n\n`);
}

/** Refuses a stream past the process's or the address's limit; otherwise counts it in. */
function admit(live: LiveStreams, address: string, limits: { total: number; perAddress: number }): () => void {
  if (live.hub.size >= limits.total) {
    throw new AppError('SERVICE_UNAVAILABLE', `This server already serves ${limits.total} event streams; retry, and another may have room.`, undefined, {
      'retry-after': String(FULL_RETRY_AFTER_SECONDS),
    });
  }
  const open = live.perAddress.get(address) ?? 0;
  if (open >= limits.perAddress) {
    throw new AppError('TOO_MANY_STREAMS', `This address already has ${open} event streams open; close one, or follow several types in one stream.`);
  }
  live.perAddress.set(address, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (live.perAddress.get(address) ?? 1) - 1;
    if (left > 0) live.perAddress.set(address, left);
    else live.perAddress.delete(address);
  };
}

/**
 * Sends the log from the follower's resume point until it has caught up with what the hub has
 * fanned out, then hands it to the hub: both sides send only ids above `lastId`, so the seam
 * neither drops nor repeats an event.
 */
async function catchUp(db: Database, follower: LiveFollower, live: LiveStreams, out: ServerResponse): Promise<void> {
  for (;;) {
    // Everything up to `seen` is committed: a read that starts now returns all of it that matches.
    const seen = live.hub.newest;
    const rows = await eventsAfter(db, { after: follower.lastId, types: [...follower.types] as (typeof EVENT_TYPES)[number][], all: follower.keyed, limit: LIVE_PAGE });
    if (out.destroyed) return;
    let flowing = true;
    for (const row of rows) {
      flowing = out.write(eventFrame(row));
      follower.lastId = row.id;
    }
    if (rows.length === LIVE_PAGE) {
      // A client that hangs up while this waits ends the wait too.
      if (!flowing) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      continue;
    }
    follower.lastId = Math.max(follower.lastId, seen);
    // Synchronous from here: no fan-out can slip between the check and going live.
    if (follower.lastId >= live.hub.newest) {
      follower.live = true;
      return;
    }
  }
}

/**
 * Writes the head of a stream straight to the socket: the headers the hooks have set so far (CORS,
 * rate limit) and what the security-headers hook would add on send. The stream then bypasses
 * Fastify's send path (a piped stream costs several KB per idle client in listeners and state).
 */
function startStream(reply: FastifyReply, request: FastifyRequest, hsts: boolean): ServerResponse {
  reply.hijack();
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  reply.raw.writeHead(200, {
    ...API_HEADERS,
    ...headers,
    ...(hsts ? { 'strict-transport-security': STRICT_TRANSPORT_SECURITY } : {}),
    'x-request-id': request.id,
    'content-type': 'text/event-stream; charset=utf-8',
    // Never stored: not by a browser, a CDN, nor the response cache (config.stream).
    'cache-control': 'no-store',
    // nginx would otherwise buffer the stream and deliver events in bursts.
    'x-accel-buffering': 'no',
  });
  reply.raw.write(`retry: ${RETRY_MS}\n\n`);
  return reply.raw;
}

function resumePoint(request: FastifyRequest<{ Querystring: z.infer<typeof StreamQuery>; Headers: z.infer<typeof StreamHeaders> }>): number | undefined {
  const raw = request.headers['last-event-id'] ?? request.query.after;
  return raw === undefined ? undefined : Number(raw);
}

export const streamRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.database.db;
  const live = app.liveStreams;
  const limits = { total: app.config.STREAM_MAX_CLIENTS, perAddress: app.config.STREAM_MAX_CLIENTS_PER_ADDRESS };
  const bufferLimit = app.config.STREAM_BUFFER_BYTES;
  const hsts = app.config.PUBLIC_BASE_URL.startsWith('https://');

  app.get('/events/stream', {
    config: { access: 'public', stream: true },
    schema: {
      summary: 'The change log, live',
      description:
        'The events of `GET /v1/events` as Server-Sent Events (`EventSource`), from every process, as they commit. ' +
        'Resumes after `Last-Event-ID` (or `after`) with nothing lost or repeated; without either, starts with the next event. ' +
        'Without a key, public events only. A stream whose unsent events outgrow STREAM_BUFFER_BYTES is closed (reconnect and resume); ' +
        'at most STREAM_MAX_CLIENTS_PER_ADDRESS per address (429 `TOO_MANY_STREAMS`) and STREAM_MAX_CLIENTS per process (503). Never cached.',
      operationId: 'streamEvents',
      tags: [OPENAPI_TAG],
      querystring: StreamQuery,
      headers: StreamHeaders,
      produces: ['text/event-stream'],
      response: { 200: EventStream, ...problemResponses('TOO_MANY_STREAMS') },
    },
    handler: async (request, reply) => {
      const after = resumePoint(request);
      await live.hub.knowNewest();
      const release = admit(live, request.ip, limits);
      try {
        if (after !== undefined && after > 0) {
          const swept = await sweptThrough(db);
          if (after < swept) {
            release();
            startStream(reply, request, hsts).end(expiredFrame(after, swept));
            return;
          }
        }
      } catch (error) {
        release();
        throw error;
      }
      const out = startStream(reply, request, hsts);
      const follower: LiveFollower = {
        types: new Set(request.query.types ? typesMatching(request.query.types) : EVENT_TYPES),
        keyed: request.apiKey !== null,
        lastId: after ?? live.hub.newest,
        live: false,
        write(frame) {
          if (!out.destroyed) out.write(frame);
        },
        checkBacklog() {
          // What this client has not taken yet, in the response's buffer.
          if (out.destroyed || out.writableLength <= bufferLimit) return;
          live.dropped.inc({ reason: 'slow' });
          request.log.info({ lastId: follower.lastId }, 'live events: a slow stream was dropped; it resumes from its last id');
          out.destroy();
        },
        end: () => out.end(),
      };
      live.hub.add(follower);
      out.once('close', () => {
        live.hub.remove(follower);
        release();
      });
      catchUp(db, follower, live, out).catch((error: unknown) => {
        request.log.warn({ err: error }, 'live events: catching up from the log failed; the stream ends and the client resumes');
        out.end();
      });
    },
  });
};
