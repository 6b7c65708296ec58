/**
 * The stream bench's clients, in a process of their own (forked by bench/stream.ts, IPC with
 * advanced serialization): `COUNT` anonymous `GET /v1/events/stream` on raw sockets, read only as
 * far as spotting `id: ` lines, each stamped when its bytes arrive. Messages from the parent:
 * `count` (answers how many receipts so far), `report` (answers every receipt), `close`.
 */
import { connect, type Socket } from 'node:net';

const [host = '127.0.0.1', portText = '3204', countText = '2000'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
/** Handshakes in flight at a time, well under the server's listen backlog. */
const CONNECTING = 50;

const now = () => performance.timeOrigin + performance.now();
const request = Buffer.from(`GET /v1/events/stream HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`);

/** Event id → receipt time per client (NaN: not received). */
const receipts = new Map<number, Float64Array>();
let received = 0;
let duplicates = 0;
let connected = 0;
let refused = 0;
let closedEarly = 0;
let closing = false;
const sockets: Socket[] = [];

function record(client: number, id: number, at: number): void {
  let times = receipts.get(id);
  if (!times) {
    times = new Float64Array(count).fill(Number.NaN);
    receipts.set(id, times);
  }
  if (!Number.isNaN(times[client] ?? Number.NaN)) {
    duplicates += 1;
    return;
  }
  received += 1;
  times[client] = at;
}

function open(client: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    sockets.push(socket);
    let head = true;
    let carry = '';
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      const at = now();
      const text = carry + chunk.toString('latin1');
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        if (head) {
          if (!text.startsWith('HTTP/1.1 200', start)) {
            refused += 1;
            socket.destroy();
            return settle();
          }
          head = false;
          connected += 1;
          settle();
        } else if (text.startsWith('id: ', start)) {
          record(client, Number(text.slice(start + 4, end)), at);
        }
        start = end + 1;
      }
      carry = text.slice(start);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!closing && !head) closedEarly += 1;
      if (head) refused += settled ? 0 : 1;
      settle();
    });
  });
}

async function openAll(): Promise<void> {
  let next = 0;
  const opener = async () => {
    while (next < count) await open(next++);
  };
  await Promise.all(Array.from({ length: CONNECTING }, opener));
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send?.({ type: 'count', received, closedEarly });
  if (message.type === 'report') process.send?.({ type: 'report', receipts: [...receipts], received, duplicates, closedEarly, cpuSeconds: cpuSeconds() });
  if (message.type === 'close') {
    closing = true;
    for (const socket of sockets) socket.destroy();
    process.disconnect();
  }
});

const started = now();
await openAll();
process.send?.({ type: 'connected', connected, refused, seconds: (now() - started) / 1000, cpuSeconds: cpuSeconds() });
