import { z } from 'zod';
import { API_KEY_ROLES } from '../../db/schema/keys.js';
import { PageQuery, page, Timestamp, Uuid } from '../../http/common.schemas.js';

export const ApiKeyRole = z.enum(API_KEY_ROLES).meta({
  description: 'reader: may also read drafts; editor: writes content; admin: also manages keys',
});

export const ApiKey = z
  .object({
    id: Uuid,
    name: z.string().meta({ example: 'Homepage frontend' }),
    role: ApiKeyRole,
    prefix: z.string().meta({ description: 'The start of the key, to tell keys apart', example: 'lede_k3v9x2m7q1ab' }),
    createdAt: Timestamp,
    revokedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyCreated = ApiKey.extend({
  key: z.string().meta({
    description: 'The key itself. Shown only in this response: store it now.',
    example: 'lede_k3v9x2m7q1ab_yWq2mH8vTn0c1fXb7LrS4kDp9eQz6AjG3uNi5oVt2wE',
  }),
}).meta({ id: 'ApiKeyCreated' });

export const ApiKeyCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(100).meta({ example: 'Homepage frontend' }),
    role: ApiKeyRole,
  })
  .meta({ id: 'ApiKeyCreate', example: { name: 'Homepage frontend', role: 'reader' } });

export const ApiKeyPage = page(ApiKey, 'ApiKeyPage');

/** A plain object: parameters it does not know (cache busters) are dropped, not refused. */
export const ApiKeyListQuery = z.object({ ...PageQuery });

export const ApiKeyParams = z.strictObject({ id: Uuid.meta({ description: 'The API key id' }) });
