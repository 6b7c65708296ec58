/**
 * Every error a client can see has a stable code. Clients and tests branch on `code`; `title`
 * is the human summary for that code and `detail` explains the one occurrence.
 */
export const PROBLEMS = {
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  MALFORMED_REQUEST: { status: 400, title: 'The request is not valid HTTP' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  INVALID_CURSOR: { status: 400, title: 'The cursor is invalid' },
  AUTH_REQUIRED: { status: 401, title: 'An API key is required' },
  INVALID_API_KEY: { status: 401, title: 'The API key is unknown or revoked' },
  FORBIDDEN: { status: 403, title: "The API key's role does not allow this" },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  TAG_NOT_FOUND: { status: 404, title: 'Tag not found' },
  KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  WEBHOOK_NOT_FOUND: { status: 404, title: 'Webhook not found' },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, title: 'Webhook delivery not found' },
  ARTICLE_NOT_FOUND: { status: 404, title: 'Article not found' },
  REVISION_NOT_FOUND: { status: 404, title: 'Revision not found' },
  TIMELINE_ENTRY_NOT_FOUND: { status: 404, title: 'Timeline entry not found' },
  SITEMAPS_DISABLED: { status: 404, title: 'Sitemaps are off: SITE_URL is not set' },
  SITEMAP_PAGE_NOT_FOUND: { status: 404, title: 'No such sitemap page' },
  TAG_SLUG_TAKEN: { status: 409, title: 'The slug is already used in this locale' },
  ARTICLE_SLUG_TAKEN: { status: 409, title: 'The slug is already used in this locale' },
  INVALID_TRANSITION: { status: 409, title: 'The article cannot make this status change' },
  TAG_IN_USE: { status: 409, title: 'Articles carry this tag' },
  EVENTS_EXPIRED: { status: 410, title: 'Events after this id are no longer kept' },
  UNKNOWN_REFERENCE: { status: 422, title: 'The request names something that does not exist' },
  WEBHOOK_TARGET_FORBIDDEN: { status: 422, title: 'Webhooks may not target private, loopback or link-local addresses' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  PRECONDITION_FAILED: { status: 412, title: 'The resource has changed since you read it' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  PRECONDITION_REQUIRED: { status: 428, title: 'If-Match is required' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  TOO_MANY_STREAMS: { status: 429, title: 'Too many open event streams from this address' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'AppError';
    this.status = PROBLEMS[code].status;
    this.title = PROBLEMS[code].title;
  }
}

/**
 * A slug looked up without a locale that several locales have, none of them the default: 404,
 * naming the locales, so the reader says which (docs/adr/0009-locales.md).
 */
export function ambiguousSlug(code: 'ARTICLE_NOT_FOUND' | 'TAG_NOT_FOUND', slug: string, locales: string[]): AppError {
  const named = locales.join(', ');
  return new AppError(code, `The slug "${slug}" is used in locales ${named}; name one with ?locale=.`, [
    { path: 'query.locale', message: `required: the slug is used in locales ${named}` },
  ]);
}

/** The problem `type` URI for a code: stable, and never pointing at a host we don't own. */
export function problemType(code: ProblemCode): string {
  return `urn:lede:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}
