import { get, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal Server-Sent Events reader over a real socket, as a test sees a stream. */
export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The raw response: pause it to play a client that stops reading. */
  response: IncomingMessage;
  events: SseEvent[];
  /** `retry:` values and comment lines seen, in order. */
  retries: number[];
  comments: number;
  /** The body when the answer is not a stream (an error). */
  body(): Promise<string>;
  /** Resolves with the first event (from the start) that `matches`, or rejects after `timeoutMs`. */
  waitFor(matches: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const retries: number[] = [];
      const waiters = new Set<() => void>();
      let buffered = '';
      let raw = '';
      let comments = 0;
      const ended = new Promise<void>((done) => {
        response.once('end', done);
        response.once('close', done);
        response.once('error', () => done());
      });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        raw += chunk.length < 10_000 && raw.length < 100_000 ? chunk : '';
        buffered += chunk;
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments += 1;
            else if (line.startsWith('retry: ')) retries.push(Number(line.slice(7)));
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) event.data = line.slice(6);
          }
          if (event.data !== undefined) events.push(event);
        }
        waiters.forEach((wake) => wake());
      });
      const stream: SseStream = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        response,
        events,
        retries,
        get comments() {
          return comments;
        },
        body: () => ended.then(() => raw),
        waitFor(matches, timeoutMs = 10_000) {
          return new Promise((found, fail) => {
            const check = () => {
              const event = events.find(matches);
              if (!event) return false;
              waiters.delete(check);
              clearTimeout(timer);
              found(event);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching event within ${timeoutMs} ms; got ${events.map((e) => `${e.id}:${e.event}`).join(', ')}`));
            }, timeoutMs);
            if (!check()) waiters.add(check);
          });
        },
        ended,
        close: () => request.destroy(),
      };
      resolve(stream);
    });
    request.on('error', reject);
  });
}
