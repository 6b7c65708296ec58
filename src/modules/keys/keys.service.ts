import { Timestamp } from '../../http/common.schemas.js';
import { type ContentChanges, contentChanges, EVERYTHING, newInstanceId } from '../../cache/content-changes.js';
import type { ChangeFeed } from '../../cache/change-feed.js';
import type { Database } from '../../db/database.js';
import type { ApiKeyRole } from '../../db/schema/keys.js';
import type { AuthenticatedKey } from '../../http/access.js';
import { AppError } from '../../http/app-error.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import { z } from 'zod';
import { generateKeySecret, parseKey, secretMatches } from './key-secret.js';
import * as repo from './keys.repository.js';

export type ApiKeyRecord = repo.ApiKeyRow;

const KEYS_CURSOR = 'keys';
const KeysCursorValues = z.tuple([Timestamp, z.uuid()]);

/** Largest number of resolved keys kept per process; past it the copy starts over. */
const KEY_CACHE_MAX = 10_000;
/** Largest number of unknown prefixes remembered per process; past it the oldest are forgotten. */
const UNKNOWN_PREFIXES_MAX = 10_000;
/** How long an unknown prefix is remembered, at most (never longer than a key is kept). */
const UNKNOWN_PREFIX_TTL_MS = 30_000;

/** Names a key in change announcements: revoking it evicts every process's copy. */
const KEY_CHANGE_PREFIX = 'key:';
export const keyChangeKey = (id: string) => `${KEY_CHANGE_PREFIX}${id}`;
/** Names a new key's prefix in change announcements: no process goes on calling it unknown. */
const NEW_KEY_CHANGE_PREFIX = 'key-prefix:';
export const newKeyChangeKey = (prefix: string) => `${NEW_KEY_CHANGE_PREFIX}${prefix}`;

export interface KeyCacheOptions {
  /** Announcements from every process, which evict what they name. */
  feed: ChangeFeed;
  /** How long a resolved key is kept before it is read again. */
  ttlMs: number;
  /** Bound on remembered unknown prefixes (tests lower it). */
  unknownPrefixesMax?: number;
}

/**
 * Keys as resolved by prefix, kept in process so a keyed request costs no lookup. Used only while
 * the change feed hears other processes (a revocation anywhere evicts the key everywhere before it
 * is acknowledged here, or within a notification's delay elsewhere); a lookup overtaken by an
 * announcement is not kept. A kept key is read again after `ttlMs`: a key revoked or deleted
 * without an announcement (straight in SQL) stops working within that time.
 *
 * Unknown prefixes are remembered too, briefly and in bounded number, so a client repeating a
 * wrong key costs no query. Creating a key announces its prefix, which this process forgets
 * before `create` resolves and every other one when the notification arrives; a key that comes
 * into being unannounced (inserted straight in SQL) works everywhere within UNKNOWN_PREFIX_TTL_MS,
 * as no entry lives longer. Prefixes are random: an entry for a prefix issued later takes someone
 * presenting it before it exists.
 */
function keyCache(options: KeyCacheOptions) {
  const { feed, ttlMs } = options;
  const unknownTtlMs = Math.min(UNKNOWN_PREFIX_TTL_MS, ttlMs);
  const unknownMax = options.unknownPrefixesMax ?? UNKNOWN_PREFIXES_MAX;
  const byPrefix = new Map<string, { row: repo.ApiKeyRow; expiresAt: number }>();
  // Prefix -> when it may be looked up again. One lifetime for all, so the oldest come first.
  const unknown = new Map<string, number>();
  let generation = 0;
  const forget = () => {
    generation += 1;
    byPrefix.clear();
    unknown.clear();
  };
  feed.subscribe({
    changed(keys) {
      // Content writes name no key: only a key's revocation or creation (or "everything") matters.
      if (keys.includes(EVERYTHING)) return forget();
      const revoked = new Set<string>();
      for (const key of keys) {
        if (key.startsWith(KEY_CHANGE_PREFIX)) revoked.add(key);
        else if (key.startsWith(NEW_KEY_CHANGE_PREFIX)) unknown.delete(key.slice(NEW_KEY_CHANGE_PREFIX.length));
        else continue;
        generation += 1;
      }
      if (revoked.size === 0) return;
      for (const [prefix, entry] of byPrefix) if (revoked.has(keyChangeKey(entry.row.id))) byPrefix.delete(prefix);
    },
    reset: forget,
  });

  function rememberUnknown(prefix: string, now: number): void {
    unknown.delete(prefix); // re-inserted last, to keep the map in expiry order
    for (const [oldest, until] of unknown) {
      if (until > now && unknown.size < unknownMax) break;
      unknown.delete(oldest);
    }
    unknown.set(prefix, now + unknownTtlMs);
  }

  return {
    /** The key kept in process for `prefix`, if any and still within its lifetime; no lookup. */
    kept(prefix: string): repo.ApiKeyRow | undefined {
      const entry = feed.listening ? byPrefix.get(prefix) : undefined;
      return entry && entry.expiresAt > Date.now() ? entry.row : undefined;
    },

    async find(db: Database, prefix: string): Promise<repo.ApiKeyRow | undefined> {
      if (!feed.listening) return repo.findKeyByPrefix(db, prefix);
      const now = Date.now();
      const kept = byPrefix.get(prefix);
      if (kept && kept.expiresAt > now) return kept.row;
      if ((unknown.get(prefix) ?? 0) > now) return undefined;
      const startedAt = generation;
      const row = await repo.findKeyByPrefix(db, prefix);
      if (generation !== startedAt || !feed.listening) return row;
      if (row) {
        if (byPrefix.size >= KEY_CACHE_MAX) byPrefix.clear();
        byPrefix.set(prefix, { row, expiresAt: Date.now() + ttlMs });
      } else {
        // A kept key whose row is gone (deleted in SQL) is unknown now, like any other.
        byPrefix.delete(prefix);
        rememberUnknown(prefix, Date.now());
      }
      return row;
    },
  };
}

function keyNotFound(id: string): AppError {
  return new AppError('KEY_NOT_FOUND', `No API key has the id ${id}.`);
}

function authenticated(row: repo.ApiKeyRow | undefined, secret: string): AuthenticatedKey | null {
  if (!row || row.revokedAt !== null || !secretMatches(secret, row.secretHash)) return null;
  return { id: row.id, name: row.name, role: row.role };
}

/**
 * `changes` announces new keys and revocations (by default to every process on the database, as
 * the CLI needs); `cache`, where given, lets resolved keys be kept in process.
 */
export function keysService(
  db: Database,
  changes: ContentChanges = contentChanges(db, newInstanceId(), () => {}),
  cache?: KeyCacheOptions,
) {
  const kept = cache ? keyCache(cache) : null;
  return {
    async create(input: { role: ApiKeyRole; name: string }): Promise<{ key: string; record: ApiKeyRecord }> {
      const secret = generateKeySecret();
      const record = await changes.write(async (tx, changed) => {
        const row = await repo.insertKey(tx, {
          name: input.name,
          role: input.role,
          prefix: secret.prefix,
          secretHash: secret.secretHash,
        });
        changed(newKeyChangeKey(row.prefix));
        return row;
      });
      return { key: secret.key, record };
    },

    /** The key behind an Authorization header, or null when it is malformed, unknown or revoked. */
    async resolve(presented: string): Promise<AuthenticatedKey | null> {
      const parsed = parseKey(presented);
      if (parsed === null) return null;
      const row = kept ? await kept.find(db, parsed.prefix) : await repo.findKeyByPrefix(db, parsed.prefix);
      return authenticated(row, parsed.secret);
    },

    /** The key if this process keeps it resolved; null otherwise, without asking the database. */
    resolveKept(presented: string): AuthenticatedKey | null {
      const parsed = parseKey(presented);
      return parsed && kept ? authenticated(kept.kept(parsed.prefix), parsed.secret) : null;
    },

    async list(options: { limit: number; cursor?: string }): Promise<{ data: ApiKeyRecord[]; nextCursor: string | null }> {
      const after = options.cursor ? decodeCursor(KEYS_CURSOR, options.cursor, KeysCursorValues) : undefined;
      const rows = await repo.listKeys(db, {
        limit: options.limit + 1,
        after: after ? { createdAt: new Date(after[0]), id: after[1] } : undefined,
      });
      return paginate(rows, options.limit, KEYS_CURSOR, (last) => [last.createdAt.toISOString(), last.id]);
    },

    /** The key's record (revoked or not), never its secret. */
    async get(id: string): Promise<ApiKeyRecord> {
      const row = await repo.findKeyById(db, id);
      if (!row) throw keyNotFound(id);
      return row;
    },

    /**
     * Revokes an active key, as DELETE does any resource: a repeat finds nothing to revoke (404).
     * The record stays, readable with its revocation time.
     */
    async revoke(id: string): Promise<ApiKeyRecord> {
      const revoked = await changes.write(async (tx, changed) => {
        const row = await repo.revokeKey(tx, id);
        if (row) changed(keyChangeKey(id));
        return row;
      });
      if (revoked) return revoked;
      const existing = await repo.findKeyById(db, id);
      if (existing?.revokedAt) {
        throw new AppError('KEY_NOT_FOUND', `The API key ${id} was already revoked at ${existing.revokedAt.toISOString()}.`);
      }
      throw keyNotFound(id);
    },
  };
}

export type KeysService = ReturnType<typeof keysService>;
