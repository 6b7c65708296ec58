import { type FieldError, PROBLEMS, type ProblemCode, problemType } from './app-error.js';
import type { ProblemBody } from './problem.schemas.js';

/**
 * One realistic occurrence of each code, as the OpenAPI document shows it: the detail the server
 * writes for it (a code missing here shows its title).
 */
const OCCURRENCES: Partial<Record<ProblemCode, { detail: string; errors?: FieldError[] }>> = {
  VALIDATION_FAILED: {
    detail: 'Some input is invalid; see errors.',
    errors: [{ path: 'body.name', message: 'Too small: expected string to have >=1 characters' }],
  },
  MALFORMED_REQUEST: { detail: 'The request is not valid HTTP/1.1 (check line endings and header syntax).' },
  MALFORMED_JSON: { detail: 'The body could not be parsed as JSON.' },
  INVALID_CURSOR: {
    detail: 'The cursor is not one this list produced; start again without it.',
    errors: [{ path: 'query.cursor', message: 'Invalid cursor' }],
  },
  AUTH_REQUIRED: { detail: 'This endpoint needs a key with the editor role or higher.' },
  INVALID_API_KEY: { detail: 'The API key is unknown or has been revoked.' },
  FORBIDDEN: { detail: 'This endpoint needs the editor role; the key has reader.' },
  ROUTE_NOT_FOUND: { detail: 'No endpoint answers GET /v1/tag.' },
  TAG_NOT_FOUND: { detail: 'No tag has the id or slug "rosiia".' },
  KEY_NOT_FOUND: { detail: 'No API key has the id 0b9f3f8e-3c1b-4f6e-9a51-2f0c6d1e7a42.' },
  WEBHOOK_NOT_FOUND: { detail: 'No webhook has the id 6e2b1d4c-8a3f-4b5e-9c7d-1f0e2a3b4c5d.' },
  WEBHOOK_DELIVERY_NOT_FOUND: { detail: 'Webhook 6e2b1d4c-8a3f-4b5e-9c7d-1f0e2a3b4c5d has no delivery 2a4c6e8f-1b3d-4f5a-8c7e-9d0b1a2c3e4f.' },
  ARTICLE_NOT_FOUND: { detail: 'No article has the id or slug "kyiv-braces-for-winter".' },
  REVISION_NOT_FOUND: { detail: 'Article 3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f has no version 7.' },
  TIMELINE_ENTRY_NOT_FOUND: { detail: 'No timeline entry has the id 7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f.' },
  SITEMAPS_DISABLED: { detail: 'Sitemaps list pages of the news website, and SITE_URL does not say where it is.' },
  SITEMAP_PAGE_NOT_FOUND: { detail: 'The article sitemaps have 3 pages; there is no page 7.' },
  EVENTS_EXPIRED: {
    detail: 'Events up to id 4127 were removed after 30 days; resync from the lists, then follow the events from the newest id.',
    errors: [{ path: 'query.after', message: 'older than the retention' }],
  },
  TAG_SLUG_TAKEN: {
    detail: 'The slug "russia" is already used by another tag in locale en.',
    errors: [{ path: 'body.slug', message: 'already in use' }],
  },
  ARTICLE_SLUG_TAKEN: {
    detail: 'Another article in locale en already has the slug "kyiv-braces-for-winter".',
    errors: [{ path: 'body.slug', message: 'already in use' }],
  },
  INVALID_TRANSITION: { detail: 'Cannot publish a published article: it is already published.' },
  TAG_IN_USE: { detail: '12 articles carry the tag 5d0c1c1e-6f2a-4c59-9a57-3b7e2f0a8d11; delete it with ?force=true to detach it from them.' },
  UNKNOWN_REFERENCE: {
    detail: 'Some referenced tags or articles do not exist; nothing was written.',
    errors: [{ path: 'body.tagSlugs.0', message: 'no tag has the slug "energy" in locale en' }],
  },
  WEBHOOK_TARGET_FORBIDDEN: {
    detail: 'http://169.254.169.254/latest is a link-local address; webhooks must reach a public address.',
    errors: [{ path: 'body.url', message: 'a link-local address' }],
  },
  REQUEST_TIMEOUT: { detail: 'The request was not received in time.' },
  PRECONDITION_FAILED: {
    detail: 'The article was changed by someone else since you read it; nothing was written. Read it again and reapply your change.',
  },
  PAYLOAD_TOO_LARGE: { detail: 'The request body exceeds the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { detail: 'Send the body as application/json.' },
  PRECONDITION_REQUIRED: { detail: 'Send If-Match with the ETag from your last read of this resource.' },
  RATE_LIMITED: { detail: 'At most 1000 requests per minute are allowed; retry in 42 seconds.' },
  TOO_MANY_STREAMS: { detail: 'This address already has 20 event streams open; close one, or follow several types in one stream.' },
  HEADERS_TOO_LARGE: { detail: 'The request headers exceed the size limit.' },
  INTERNAL_ERROR: { detail: 'Something went wrong on our side; it has been logged.' },
  SERVICE_UNAVAILABLE: { detail: 'The database is unreachable; retry shortly.' },
};

const EXAMPLE_REQUEST_ID = '9d1e6f0a-2b7c-4c3d-8e5f-6a7b8c9d0e1f';

/** The problem body a client receives for `code`, as an example. */
export function problemExample(code: ProblemCode): ProblemBody {
  const occurrence = OCCURRENCES[code];
  return {
    type: problemType(code),
    title: PROBLEMS[code].title,
    status: PROBLEMS[code].status,
    detail: occurrence?.detail ?? PROBLEMS[code].title,
    code,
    requestId: EXAMPLE_REQUEST_ID,
    ...(occurrence?.errors ? { errors: occurrence.errors } : {}),
  };
}
