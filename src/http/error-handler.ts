import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from '@fastify/type-provider-zod';
import {
  isDatabaseUnavailable,
  PG_DATETIME_OUT_OF_RANGE,
  PG_CHARACTER_NOT_IN_REPERTOIRE,
  PG_UNTRANSLATABLE_CHARACTER,
  pgErrorCode,
} from '../db/errors.js';
import { AppError, type FieldError, problemType } from './app-error.js';
import type { ProblemBody } from './problem.schemas.js';
import { API_HEADERS } from './security-headers.js';

const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Fastify's own client errors, by their codes, mapped onto ours. */
const FASTIFY_CLIENT_ERRORS: Record<string, (error: FastifyError) => AppError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new AppError('MALFORMED_JSON', 'The body could not be parsed as JSON.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new AppError('MALFORMED_JSON', 'The content type is JSON but the body is empty.'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new AppError('PAYLOAD_TOO_LARGE', 'The request body exceeds the size limit.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new AppError('VALIDATION_FAILED', 'Content-Length does not match the body.'),
};

const VALIDATION_LOCATIONS: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

function validationErrors(error: FastifyError): FieldError[] {
  const location = VALIDATION_LOCATIONS[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation ?? []).map((issue) => {
    const field = issue.instancePath.split('/').filter(Boolean).join('.');
    const params = issue.params as { keys?: string[] } | undefined;
    // Zod reports unknown keys together on the parent object; give each key its own entry.
    if (issue.keyword === 'unrecognized_keys' && params?.keys?.length) {
      const prefix = field ? `${location}.${field}` : location;
      return params.keys.map((key) => ({ path: `${prefix}.${key}`, message: 'Unknown field: it cannot be set' }));
    }
    return [{ path: field ? `${location}.${field}` : location, message: issue.message ?? 'Invalid' }];
  }).flat();
}

/** Turns anything thrown into the AppError the client sees. Unknown errors become INTERNAL_ERROR. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError) || fastifyError.validation) {
    return new AppError('VALIDATION_FAILED', 'Some input is invalid; see errors.', validationErrors(fastifyError));
  }
  const mapped = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (mapped) return mapped(fastifyError);
  if (isDatabaseUnavailable(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unreachable; retry shortly.', undefined, {
      'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
  const pgCode = pgErrorCode(error);
  if (pgCode === PG_UNTRANSLATABLE_CHARACTER || pgCode === PG_CHARACTER_NOT_IN_REPERTOIRE) {
    return new AppError('VALIDATION_FAILED', 'Text contains a character that cannot be stored.');
  }
  if (pgCode === PG_DATETIME_OUT_OF_RANGE) {
    return new AppError('VALIDATION_FAILED', 'A date is outside the range that can be stored.');
  }
  // Any other 4xx Fastify raises for a bad request, without leaking its internal message.
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new AppError('VALIDATION_FAILED', 'The request could not be processed as sent.');
  }
  return new AppError('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.');
}

/** The one wire form of an error (RFC 9457 with our code and the request id). */
export function problemBody(error: AppError, requestId: string): ProblemBody {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const body = problemBody(error, request.id);
  return reply
    .code(error.status)
    .headers(error.headers)
    .header('x-request-id', request.id)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .serializer(JSON.stringify)
    .send(body);
}

/**
 * Errors the router raises before any route or hook runs (a malformed percent-encoding, a path
 * parameter over the length limit): answered in the same format, with the same headers.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long.' : 'The URL is not validly percent-encoded.';
  reply.headers(API_HEADERS);
  return sendProblem(request, reply, new AppError('VALIDATION_FAILED', detail, [{ path: 'params', message: detail }]));
}

export const errorHandlerPlugin = fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((error, request, reply) => {
      const appError = toAppError(error);
      // Logged once, here, with the request id the logger already carries. An outage makes every
      // request fail the same way: one short warning each, not a stack trace each.
      if (appError.code === 'SERVICE_UNAVAILABLE') {
        request.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'database unavailable');
      } else if (appError.status >= 500) {
        request.log.error({ err: error }, 'request failed');
      }
      return sendProblem(request, reply, appError);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        request,
        reply,
        new AppError('ROUTE_NOT_FOUND', `No endpoint answers ${request.method} ${request.url.split('?')[0]}.`),
      ),
    );
  },
  { name: 'lede-error-handler' },
);
