import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { isoTime, isoTimeOrNull } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import {
  WebhookCreate,
  WebhookCreated,
  WebhookDelivery,
  WebhookDeliveryListQuery,
  WebhookDeliveryPage,
  WebhookDeliveryParams,
  Webhook,
  WebhookListQuery,
  WebhookPage,
  WebhookParams,
  WebhookUpdate,
  WebhookUpdated,
} from './webhooks.schemas.js';
import type { WebhookRow } from './webhooks.repository.js';
import { type DeliveryWithAttempts, webhooksService } from './webhooks.service.js';

const OPENAPI_TAG = 'Webhooks';

/** A webhook as admins see it: never its secrets. */
function toWire(row: WebhookRow) {
  const graceRunning = row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > new Date();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    previousSecretExpiresAt: graceRunning ? isoTimeOrNull(row.previousSecretExpiresAt) : null,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
  };
}

function deliveryToWire(row: DeliveryWithAttempts) {
  return {
    id: row.id,
    eventId: String(row.eventId),
    eventType: row.eventType,
    status: row.status,
    nextAttemptAt: row.status === 'pending' ? isoTime(row.nextAttemptAt) : null,
    attempts: row.attempts.map((attempt) => ({
      attemptedAt: isoTime(attempt.attemptedAt),
      durationMs: attempt.durationMs,
      responseStatus: attempt.responseStatus,
      error: attempt.error,
      responseExcerpt: attempt.responseExcerpt,
      responseTruncated: attempt.responseTruncated,
    })),
    createdAt: isoTime(row.createdAt),
    finishedAt: isoTimeOrNull(row.finishedAt),
  };
}

export const webhooksRoutes: FastifyPluginAsyncZod = async (app) => {
  const webhooks = webhooksService(app.database.db, app.contentChanges, { allowPrivateTargets: app.config.WEBHOOKS_ALLOW_PRIVATE_TARGETS });

  app.post('/webhooks', {
    config: { access: 'admin' },
    schema: {
      summary: 'Create a webhook',
      description:
        'Events of the listed types that happen from now on are POSTed to the URL, signed (Standard Webhooks). ' +
        'Answers the signing secret once. A URL whose address is written out must be public (422 otherwise); ' +
        'the address a host name resolves to is checked at every delivery.',
      operationId: 'createWebhook',
      tags: [OPENAPI_TAG],
      body: WebhookCreate,
      response: { 201: WebhookCreated, ...problemResponses('WEBHOOK_TARGET_FORBIDDEN') },
    },
    handler: async (request, reply) => {
      const { record, secret } = await webhooks.create(request.body);
      return reply.code(201).header('location', `/v1/webhooks/${record.id}`).header('cache-control', 'no-store').send({ ...toWire(record), secret });
    },
  });

  app.get('/webhooks', {
    config: { access: 'admin' },
    schema: {
      summary: 'List webhooks',
      description: 'Newest first. Secrets are never shown.',
      operationId: 'listWebhooks',
      tags: [OPENAPI_TAG],
      querystring: WebhookListQuery,
      response: { 200: WebhookPage, ...problemResponses(304) },
    },
    handler: async (request) => {
      const { data, nextCursor } = await webhooks.list(request.query);
      return { data: data.map(toWire), nextCursor };
    },
  });

  app.get('/webhooks/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Get a webhook',
      description: 'Its settings and state (disabledReason when it turned itself off), never its secret.',
      operationId: 'getWebhook',
      tags: [OPENAPI_TAG],
      params: WebhookParams,
      response: { 200: Webhook, ...problemResponses(304, 'WEBHOOK_NOT_FOUND') },
    },
    handler: async (request) => toWire(await webhooks.get(request.params.id)),
  });

  app.patch('/webhooks/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Update a webhook',
      description:
        'Changes the fields given. `enabled: true` turns it back on (from the next event). `rotateSecret: true` answers a new ' +
        'secret once; the previous one also signs deliveries for 24 hours.',
      operationId: 'updateWebhook',
      tags: [OPENAPI_TAG],
      params: WebhookParams,
      body: WebhookUpdate,
      response: { 200: WebhookUpdated, ...problemResponses('WEBHOOK_NOT_FOUND', 'WEBHOOK_TARGET_FORBIDDEN') },
    },
    handler: async (request, reply) => {
      const { record, secret } = await webhooks.update(request.params.id, request.body);
      if (secret) reply.header('cache-control', 'no-store');
      return { ...toWire(record), ...(secret ? { secret } : {}) };
    },
  });

  app.delete('/webhooks/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Delete a webhook',
      description: 'With its deliveries; nothing more is sent to it.',
      operationId: 'deleteWebhook',
      tags: [OPENAPI_TAG],
      params: WebhookParams,
      response: { 204: z.null().meta({ description: 'Deleted' }), ...problemResponses('WEBHOOK_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      await webhooks.remove(request.params.id);
      return reply.code(204).send(null);
    },
  });

  app.get('/webhooks/:id/deliveries', {
    config: { access: 'admin' },
    schema: {
      summary: "List a webhook's deliveries",
      description: 'Newest first, each with every attempt (status, response code, error) and its next try.',
      operationId: 'listWebhookDeliveries',
      tags: [OPENAPI_TAG],
      params: WebhookParams,
      querystring: WebhookDeliveryListQuery,
      response: { 200: WebhookDeliveryPage, ...problemResponses(304, 'WEBHOOK_NOT_FOUND') },
    },
    handler: async (request) => {
      const { data, nextCursor } = await webhooks.deliveries(request.params.id, request.query);
      return { data: data.map(deliveryToWire), nextCursor };
    },
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/retry', {
    config: { access: 'admin' },
    schema: {
      summary: 'Retry a delivery',
      description:
        'Sends it again now: a failed (or succeeded) delivery gets one more attempt; a pending one is brought forward. ' +
        'Same webhook-id and body as before.',
      operationId: 'retryWebhookDelivery',
      tags: [OPENAPI_TAG],
      params: WebhookDeliveryParams,
      response: { 202: WebhookDelivery, ...problemResponses('WEBHOOK_NOT_FOUND', 'WEBHOOK_DELIVERY_NOT_FOUND') },
    },
    handler: async (request, reply) => reply.code(202).send(deliveryToWire(await webhooks.retry(request.params.id, request.params.deliveryId))),
  });
};
