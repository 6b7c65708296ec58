import type { FastifyBaseLogger } from 'fastify';
import type { Database, QueryListener } from './database.js';
import { openPostgres, type PostgresHandle } from './postgres.js';

/*
 * Streaming replicas for anonymous reads (docs/adr/0016-read-replicas.md).
 *
 * A replica may serve a read only when it has replayed every write this process has heard of:
 * the fence. When a change is announced (after its commit), the primary's WAL position is read;
 * a replica whose replay position has reached it shows that change. Until then reads go to the
 * primary. So a reader never sees content older than an announcement this process already acted
 * on (the response cache refills right after one; a webhook receiver fetches what it was told
 * about), and an editor's own process answers with her write.
 *
 * Lag is measured against the primary's positions sampled over time: a replica is as far behind
 * as the oldest sample it has not replayed is old. A replica that is down, not a standby, or
 * further behind than the bound is skipped until a check finds it well again.
 */

/** How often every replica (and the primary's WAL position) is checked while nothing happens. */
export const REPLICA_CHECK_MS = 1_000;
/** After a write, replicas still below the fence are checked again this often until they reach it. */
const CATCH_UP_CHECK_MS = 20;
/** How long the catch-up checks go on before leaving it to the regular check. */
const CATCH_UP_WINDOW_MS = 2_000;

export type ReplicaState = 'up' | 'lagging' | 'down';

export interface ReplicaStatus {
  /** host:port/database, never the credentials. */
  name: string;
  state: ReplicaState;
  /** How far behind the primary it was at the last check; null when it could not be measured. */
  lagMs: number | null;
  /** Why it is down, for logs and /readyz. */
  reason: string | null;
}

export interface ReadTarget {
  db: Database;
  /** The replica's name, or null for the primary. */
  replica: string | null;
}

export interface ReplicaSetOptions {
  urls: readonly string[];
  primary: PostgresHandle;
  maxLagMs: number;
  poolMax: number;
  log: FastifyBaseLogger;
  onQuery?: QueryListener;
  checkMs?: number;
}

export interface ReplicaSet {
  /** Where an anonymous read should run now. */
  pick(): ReadTarget;
  /** A change was announced (or announcements were missed): no replica serves until it has replayed it. */
  raiseFence(): void;
  statuses(): ReplicaStatus[];
  close(): Promise<void>;
}

interface Replica {
  name: string;
  handle: PostgresHandle;
  state: ReplicaState;
  replayed: bigint | null;
  lagMs: number | null;
  reason: string | null;
}

/** `16/B374D848` as a number of bytes. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** host:port/database of a connection URL: a stable, credential-free label. */
export function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

async function walPosition(handle: PostgresHandle, sql: string): Promise<bigint | null> {
  const result = await handle.pool.query<{ lsn: string | null }>(sql);
  const lsn = result.rows[0]?.lsn;
  return lsn ? parseLsn(lsn) : null;
}

const PRIMARY_POSITION_SQL = 'select pg_current_wal_lsn()::text as lsn';
/** Null when the server is not a standby (promoted, or pointed at a primary by mistake). */
const REPLAY_POSITION_SQL = 'select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as lsn';

export async function openReplicaSet(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const checkMs = options.checkMs ?? REPLICA_CHECK_MS;
  const primaryPool = options.primary.pool;
  /** The primary's WAL positions with when they were read, oldest first; kept for a little more than the lag bound. */
  const samples: { at: number; lsn: bigint }[] = [];
  let fence: bigint | null = null;
  let fenceEpoch = 0;
  let fenceLookup: Promise<void> | null = null;
  let catchUpUntil = 0;
  let closed = false;
  let next = 0;

  const replicas: Replica[] = [];
  for (const url of options.urls) {
    const name = replicaName(url);
    const replica: Replica = { name, handle: undefined as unknown as PostgresHandle, state: 'down', replayed: null, lagMs: null, reason: 'not checked yet' };
    replica.handle = await openPostgres({
      connectionString: url,
      poolMax: options.poolMax,
      onQuery: options.onQuery,
      applicationName: 'lede-read',
      fallback: {
        query: (config, values) => primaryPool.query(config, values),
        unreachable: (error) => markDown(replica, error),
      },
    });
    replicas.push(replica);
  }

  function markDown(replica: Replica, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (replica.state !== 'down') options.log.warn({ replica: replica.name, reason }, 'read replica down: anonymous reads go elsewhere');
    replica.state = 'down';
    replica.reason = reason;
  }

  function sample(lsn: bigint): void {
    const at = Date.now();
    samples.push({ at, lsn });
    const keepFrom = at - options.maxLagMs - 2 * checkMs;
    while (samples.length > 1 && samples[0]!.at < keepFrom) samples.shift();
  }

  /** How long ago the primary was first at a position the replica has not replayed (0: caught up). */
  function lagOf(replayed: bigint): number {
    const behind = samples.find((entry) => entry.lsn > replayed);
    return behind ? Date.now() - behind.at : 0;
  }

  async function checkReplica(replica: Replica): Promise<void> {
    try {
      const replayed = await walPosition(replica.handle, REPLAY_POSITION_SQL);
      if (replayed === null) {
        markDown(replica, new Error('not a standby (pg_is_in_recovery() is false)'));
        return;
      }
      replica.replayed = replica.replayed !== null && replica.replayed > replayed ? replica.replayed : replayed;
      replica.lagMs = lagOf(replayed);
      const state: ReplicaState = replica.lagMs > options.maxLagMs ? 'lagging' : 'up';
      if (state !== replica.state) options.log.info({ replica: replica.name, state, lagMs: replica.lagMs }, 'read replica state changed');
      replica.state = state;
      replica.reason = state === 'lagging' ? `replay is ${replica.lagMs} ms behind the primary` : null;
    } catch (error) {
      markDown(replica, error);
    }
  }

  async function checkAll(): Promise<void> {
    try {
      const lsn = await walPosition(options.primary, PRIMARY_POSITION_SQL);
      if (lsn !== null) sample(lsn);
    } catch {
      // The primary is away: every read fails there anyway; replicas are still checked.
    }
    await Promise.all(replicas.map(checkReplica));
  }

  /** Reads the primary's position after the latest announcement; an announcement during the read starts another. */
  function lookUpFence(): Promise<void> {
    fenceLookup ??= (async () => {
      try {
        for (;;) {
          const epoch = fenceEpoch;
          const lsn = await walPosition(options.primary, PRIMARY_POSITION_SQL);
          if (lsn !== null) sample(lsn);
          if (epoch === fenceEpoch) {
            fence = lsn;
            return;
          }
        }
      } catch {
        // Left unknown: reads stay on the primary; the next check tries again.
      } finally {
        fenceLookup = null;
      }
    })().then(() => {
      if (fence !== null) startCatchUp();
    });
    return fenceLookup;
  }

  let catchUpTimer: NodeJS.Timeout | null = null;
  function startCatchUp(): void {
    catchUpUntil = Date.now() + CATCH_UP_WINDOW_MS;
    if (catchUpTimer || closed) return;
    const step = () => {
      catchUpTimer = null;
      const behind = replicas.filter((replica) => replica.state !== 'down' && fence !== null && (replica.replayed ?? -1n) < fence);
      if (closed || behind.length === 0 || Date.now() > catchUpUntil) return;
      void Promise.all(behind.map(checkReplica)).finally(() => {
        if (!closed) catchUpTimer = setTimeout(step, CATCH_UP_CHECK_MS).unref();
      });
    };
    step();
  }

  let regularTimer: NodeJS.Timeout | null = null;
  const regularCheck = () => {
    void checkAll()
      .then(() => (fence === null && !fenceLookup ? lookUpFence() : undefined))
      .finally(() => {
        if (!closed) regularTimer = setTimeout(regularCheck, checkMs).unref();
      });
  };

  await checkAll();
  await lookUpFence();
  regularTimer = setTimeout(regularCheck, checkMs).unref();

  return {
    pick() {
      if (fence !== null) {
        const at = fence;
        const ready = replicas.filter((replica) => replica.state === 'up' && replica.replayed !== null && replica.replayed >= at);
        if (ready.length > 0) {
          next = (next + 1) % ready.length;
          const replica = ready[next]!;
          return { db: replica.handle.db, replica: replica.name };
        }
      }
      return { db: options.primary.db, replica: null };
    },
    raiseFence() {
      fenceEpoch += 1;
      fence = null;
      void lookUpFence();
    },
    statuses() {
      return replicas.map(({ name, state, lagMs, reason }) => ({ name, state, lagMs, reason }));
    },
    async close() {
      closed = true;
      if (regularTimer) clearTimeout(regularTimer);
      if (catchUpTimer) clearTimeout(catchUpTimer);
      await Promise.all(replicas.map((replica) => replica.handle.close()));
    },
  };
}
