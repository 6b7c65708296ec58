import pg from 'pg';
import type { NotificationSubscriber } from './database.js';

/** Waits between attempts to re-establish a lost listening connection: from the first to the last. */
const RECONNECT_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];
const CONNECT_TIMEOUT_MS = 2_000;
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * LISTEN on a connection of its own (a pooled one would go back to the pool and stop hearing).
 * A lost connection is reported at once and re-established with backoff until stopped.
 */
export async function listenForNotifications(
  connectionString: string,
  channel: string,
  subscriber: NotificationSubscriber,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let failures = 0;

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)]!;
    failures += 1;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, delay);
    retry.unref();
  };

  const onLost = (lostClient: pg.Client) => {
    if (client !== lostClient) return;
    client = null;
    lostClient.removeAllListeners('end');
    lostClient.on('error', () => {});
    lostClient.end().catch(() => {});
    subscriber.lost();
    scheduleReconnect();
  };

  async function connect(): Promise<boolean> {
    const candidate = new pg.Client({
      connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      application_name: 'lede-listener',
    });
    candidate.on('error', () => onLost(candidate));
    candidate.on('end', () => onLost(candidate));
    candidate.on('notification', (message) => {
      if (message.channel === channel) subscriber.notification(message.payload ?? '');
    });
    try {
      client = candidate;
      await candidate.connect();
      await candidate.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch {
      onLost(candidate);
      return false;
    }
    if (stopped) {
      await candidate.end().catch(() => {});
      return false;
    }
    failures = 0;
    subscriber.connected();
    return true;
  }

  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const current = client;
    client = null;
    if (current) {
      current.removeAllListeners('end');
      await current.end().catch(() => {});
    }
  };
}
