import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { isoTime, isoTimeOrNull } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import { ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery, ApiKeyPage, ApiKeyParams } from './keys.schemas.js';
import { type ApiKeyRecord, keysService } from './keys.service.js';
import { displayPrefix } from './key-secret.js';

const OPENAPI_TAG = 'API keys';

function toWire(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: displayPrefix(record.prefix),
    createdAt: isoTime(record.createdAt),
    revokedAt: isoTimeOrNull(record.revokedAt),
  };
}

export const keysRoutes: FastifyPluginAsyncZod = async (app) => {
  const keys = keysService(app.database.db, app.contentChanges);

  app.post('/keys', {
    config: { access: 'admin' },
    schema: {
      summary: 'Create an API key',
      description: 'Answers the key once; only its hash is stored.',
      operationId: 'createApiKey',
      tags: [OPENAPI_TAG],
      body: ApiKeyCreate,
      response: { 201: ApiKeyCreated },
    },
    handler: async (request, reply) => {
      const { key, record } = await keys.create(request.body);
      return reply.code(201).header('location', `/v1/keys/${record.id}`).header('cache-control', 'no-store').send({ ...toWire(record), key });
    },
  });

  app.get('/keys', {
    config: { access: 'admin' },
    schema: {
      summary: 'List API keys',
      description: 'Newest first. Keys themselves are never shown, only their prefixes.',
      operationId: 'listApiKeys',
      tags: [OPENAPI_TAG],
      querystring: ApiKeyListQuery,
      response: { 200: ApiKeyPage, ...problemResponses(304) },
    },
    handler: async (request) => {
      const { data, nextCursor } = await keys.list(request.query);
      return { data: data.map(toWire), nextCursor };
    },
  });

  app.get('/keys/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Get an API key',
      description: 'The key\'s record, never the key itself. A revoked key stays readable, with revokedAt.',
      operationId: 'getApiKey',
      tags: [OPENAPI_TAG],
      params: ApiKeyParams,
      response: { 200: ApiKey, ...problemResponses(304, 'KEY_NOT_FOUND') },
    },
    handler: async (request) => toWire(await keys.get(request.params.id)),
  });

  app.delete('/keys/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Revoke an API key',
      description: 'The key stops working at once; its record stays readable, with revokedAt. A key already revoked (or unknown): 404.',
      operationId: 'revokeApiKey',
      tags: [OPENAPI_TAG],
      params: ApiKeyParams,
      response: { 204: z.null().meta({ description: 'Revoked' }), ...problemResponses('KEY_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      await keys.revoke(request.params.id);
      return reply.code(204).send(null);
    },
  });
};
