import type { FastifyRequest } from 'fastify';
import { AppError } from './app-error.js';
import { versionsInIfMatch } from './caching.js';

/**
 * The versions a conditional write may apply to, from If-Match. Missing → 428. A header that names
 * no version of ours is kept as an empty list: the write then matches nothing and answers 412.
 * `*` is refused: it would let a client overwrite a version it never read.
 */
export function requiredVersions(request: FastifyRequest): number[] {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '') {
    throw new AppError('PRECONDITION_REQUIRED', 'Send If-Match with the ETag from your last read of this resource.');
  }
  if (header.trim() === '*') {
    throw new AppError('PRECONDITION_REQUIRED', 'If-Match: * is not accepted; send the ETag you read, so no edit is lost.');
  }
  return versionsInIfMatch(header);
}

export function staleVersion(resource: string): AppError {
  return new AppError(
    'PRECONDITION_FAILED',
    `The ${resource} was changed by someone else since you read it; nothing was written. Read it again and reapply your change.`,
  );
}
