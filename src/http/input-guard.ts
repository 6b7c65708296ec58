import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type FieldError } from './app-error.js';

const NUL = '\u0000';
/** No request Lede understands nests deeper than this; deeper input is refused, not walked. */
export const MAX_INPUT_DEPTH = 32;

/** Walks the input with an explicit stack, so hostile nesting cannot overflow the call stack. */
function findProblems(root: unknown, rootPath: string, found: FieldError[]): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: rootPath, depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) found.push({ path, message: 'must not contain the NUL character (\\u0000)' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      found.push({ path, message: `nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) found.push({ path, message: 'field names must not contain \\u0000' });
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
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
      findProblems(request.params, 'params', found);
      findProblems(request.query, 'query', found);
      findProblems(request.body, 'body', found);
      if (found.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'The input contains text or nesting that cannot be accepted.', found);
      }
    });
  },
  { name: 'lede-input-guard' },
);
