import { Timestamp } from '../../http/common.schemas.js';
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

export function keysService(db: Database) {
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
      const row = await repo.findKeyByPrefix(db, parsed.prefix);
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
      const revoked = await repo.revokeKey(db, id);
      if (revoked) return revoked;
      const existing = await repo.findKeyById(db, id);
      if (!existing) throw new AppError('KEY_NOT_FOUND', `No API key has the id ${id}.`);
      return existing;
    },
  };
}

export type KeysService = ReturnType<typeof keysService>;
