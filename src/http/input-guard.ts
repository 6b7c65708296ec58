import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type FieldError } from './app-error.js';
import { knownQuery, knownQueryParams } from './query-params.js';

const NUL = '\u0000';
/** Read as code points, a surrogate can only be one without its pair. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATE_MESSAGE = 'must not contain a lone UTF-16 surrogate (\\ud800–\\udfff without its pair)';
/** No request Lede understands nests deeper than this; deeper input is refused, not walked. */
export const MAX_INPUT_DEPTH = 32;

/** Walks the input with an explicit stack, so hostile nesting cannot overflow the call stack. */
function findProblems(root: unknown, rootPath: string, found: FieldError[]): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: rootPath, depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) found.push({ path, message: 'must not contain the NUL character (\\u0000)' });
      if (LONE_SURROGATE.test(value)) found.push({ path, message: LONE_SURROGATE_MESSAGE });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      found.push({ path, message: `nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) found.push({ path, message: 'field names must not contain \\u0000' });
      if (LONE_SURROGATE.test(key)) found.push({ path, message: `field names ${LONE_SURROGATE_MESSAGE}` });
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
}

/**
 * PostgreSQL cannot store U+0000 in text or jsonb and fails the statement; a lone surrogate (JSON
 * allows `"\\ud800"`) is refused by jsonb and silently turned into U+FFFD in text. Rejecting both
 * once, for every route and every input, keeps either from surfacing as a 500 or as altered text.
 */
export const inputGuardPlugin = fp(
  async function inputGuard(app: FastifyInstance) {
    app.addHook('preValidation', async (request) => {
      const found: FieldError[] = [];
      findProblems(request.params, 'params', found);
      // Only the query parameters the route knows: the others are ignored, never stored.
      findProblems(knownQuery(request.query, knownQueryParams(request.routeOptions.schema?.querystring)), 'query', found);
      findProblems(request.body, 'body', found);
      if (found.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'The input contains text or nesting that cannot be accepted.', found);
      }
    });
  },
  { name: 'lede-input-guard' },
);
