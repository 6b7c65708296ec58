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

/** Names a key in change announcements: revoking it evicts every process's copy. */
const KEY_CHANGE_PREFIX = 'key:';
export const keyChangeKey = (id: string) => `${KEY_CHANGE_PREFIX}${id}`;

/**
 * Keys as resolved by prefix, kept in process so a keyed request costs no lookup. Used only while
 * the change feed hears other processes (a revocation anywhere evicts the key everywhere before it
 * is acknowledged here, or within a notification's delay elsewhere); a lookup overtaken by a
 * revocation is not kept. Unknown prefixes are never kept, so a new key needs no announcement.
 */
function keyCache(feed: ChangeFeed) {
  const byPrefix = new Map<string, repo.ApiKeyRow>();
  let generation = 0;
  const forget = () => {
    generation += 1;
    byPrefix.clear();
  };
  feed.subscribe({
    changed(keys) {
      // Content writes name no key: only a revocation (or "everything") touches this copy.
      if (keys.includes(EVERYTHING)) return forget();
      const revoked = keys.filter((key) => key.startsWith(KEY_CHANGE_PREFIX));
      if (revoked.length === 0) return;
      generation += 1;
      for (const [prefix, row] of byPrefix) if (revoked.includes(keyChangeKey(row.id))) byPrefix.delete(prefix);
    },
    reset: forget,
  });
  return {
    async find(db: Database, prefix: string): Promise<repo.ApiKeyRow | undefined> {
      if (!feed.listening) return repo.findKeyByPrefix(db, prefix);
      const kept = byPrefix.get(prefix);
      if (kept) return kept;
      const startedAt = generation;
      const row = await repo.findKeyByPrefix(db, prefix);
      if (row && generation === startedAt && feed.listening) {
        if (byPrefix.size >= KEY_CACHE_MAX) byPrefix.clear();
        byPrefix.set(prefix, row);
      }
      return row;
    },
  };
}

/**
 * `changes` announces revocations (by default to every process on the database, as the CLI
 * needs); `feed`, where given, lets resolved keys be kept in process.
 */
export function keysService(db: Database, changes: ContentChanges = contentChanges(db, newInstanceId(), () => {}), feed?: ChangeFeed) {
  const cache = feed ? keyCache(feed) : null;
  return {
    async create(input: { role: ApiKeyRole; name: string }): Promise<{ key: string; record: ApiKeyRecord }> {
      const secret = generateKeySecret();
      const record = await repo.insertKey(db, {
        name: input.name,
        role: input.role,
        prefix: secret.prefix,
        secretHash: secret.secretHash,
      });
      return { key: secret.key, record };
    },

    /** The key behind an Authorization header, or null when it is malformed, unknown or revoked. */
    async resolve(presented: string): Promise<AuthenticatedKey | null> {
      const parsed = parseKey(presented);
      if (parsed === null) return null;
      const row = cache ? await cache.find(db, parsed.prefix) : await repo.findKeyByPrefix(db, parsed.prefix);
      if (!row || row.revokedAt !== null || !secretMatches(parsed.secret, row.secretHash)) return null;
      return { id: row.id, name: row.name, role: row.role };
    },

    async list(options: { limit: number; cursor?: string }): Promise<{ data: ApiKeyRecord[]; nextCursor: string | null }> {
      const after = options.cursor ? decodeCursor(KEYS_CURSOR, options.cursor, KeysCursorValues) : undefined;
      const rows = await repo.listKeys(db, {
        limit: options.limit + 1,
        after: after ? { createdAt: new Date(after[0]), id: after[1] } : undefined,
      });
      return paginate(rows, options.limit, KEYS_CURSOR, (last) => [last.createdAt.toISOString(), last.id]);
    },

    /** Revoking is idempotent for a key that exists; an unknown id is 404. */
    async revoke(id: string): Promise<ApiKeyRecord> {
      const revoked = await changes.write(async (tx, changed) => {
        const row = await repo.revokeKey(tx, id);
        if (row) changed(keyChangeKey(id));
        return row;
      });
      if (revoked) return revoked;
      const existing = await repo.findKeyById(db, id);
      if (!existing) throw new AppError('KEY_NOT_FOUND', `No API key has the id ${id}.`);
      return existing;
    },
  };
}

export type KeysService = ReturnType<typeof keysService>;
