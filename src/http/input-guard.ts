import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type FieldError } from './app-error.js';

const NUL = '\u0000';

function findNul(value: unknown, path: string, found: FieldError[]): void {
  if (typeof value === 'string') {
    if (value.includes(NUL)) found.push({ path, message: 'must not contain the NUL character (\\u0000)' });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findNul(item, `${path}.${index}`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) found.push({ path, message: 'field names must not contain \\u0000' });
      findNul(item, `${path}.${key}`, found);
    }
  }
}

/**
 * PostgreSQL cannot store U+0000 in text or jsonb and fails the statement. Rejecting it once,
 * for every route and every input, keeps that from ever surfacing as a 500.
 */
export const inputGuardPlugin = fp(
  async function inputGuard(app: FastifyInstance) {
    app.addHook('preValidation', async (request) => {
      const found: FieldError[] = [];
      findNul(request.params, 'params', found);
      findNul(request.query, 'query', found);
      findNul(request.body, 'body', found);
      if (found.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'Text must not contain the NUL character.', found);
      }
    });
  },
  { name: 'lede-input-guard' },
);
