import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ACCESS_LEVELS, type AuthenticatedKey, roleSatisfies } from './access.js';
import { AppError } from './app-error.js';
import type { AuthFailureLimit } from './auth-failures.js';

export interface AuthOptions {
  /** Looks a presented key up; null when it is unknown or revoked. */
  resolveKey(presented: string): Promise<AuthenticatedKey | null>;
  /** The key if this process already keeps it resolved (no database lookup); null otherwise. */
  keptKey?(presented: string): AuthenticatedKey | null;
  /** Counts failed authentications per address and refuses past the limit; none: no limit. */
  failures?: AuthFailureLimit;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
export const WWW_AUTHENTICATE = { 'www-authenticate': 'Bearer realm="lede"' };

/** The key in an Authorization header, or an error saying why there is none to look up. */
function presentedKey(header: string): string | AppError {
  const match = BEARER.exec(header);
  if (!match?.[1]) {
    return new AppError('INVALID_API_KEY', 'Send the key as "Authorization: Bearer <key>".', undefined, WWW_AUTHENTICATE);
  }
  return match[1];
}

/** The key behind the request's Authorization header; throws when it is wrong (counting the failure). */
async function authenticate(request: FastifyRequest, header: string, options: AuthOptions): Promise<AuthenticatedKey> {
  const presented = presentedKey(header);
  const refusal = options.failures?.refusal(request);
  if (refusal) {
    // A key this process already knows still works from a blocked address (an editor behind the
    // same proxy as the guesser): the limit stops guessing, which needs lookups, not editors.
    const known = typeof presented === 'string' ? options.keptKey?.(presented) : null;
    if (known) return known;
    throw refusal;
  }
  const key = typeof presented === 'string' ? await options.resolveKey(presented) : null;
  if (key !== null) return key;
  const tooMany = await options.failures?.count(request);
  if (tooMany) throw tooMany;
  // A wrong key is an error even on a public route: silently serving it as anonymous would hide
  // the caller's mistake (and their drafts).
  if (presented instanceof AppError) throw presented;
  throw new AppError('INVALID_API_KEY', 'The API key is unknown or has been revoked.', undefined, WWW_AUTHENTICATE);
}

function describeRoute(route: RouteOptions): string {
  return `${Array.isArray(route.method) ? route.method.join(',') : route.method} ${route.url}`;
}

/**
 * Every route must say who may call it (`config.access`), so a route that forgets fails the boot
 * instead of becoming silently public. Routes are collected as they are added and checked once
 * all plugins have run their own onRoute hooks (the docs plugin marks its routes public in one).
 */
export function routesMissingAccess(routes: RouteOptions[]): string[] {
  return routes
    .filter((route) => {
      const access = route.config?.access;
      return access === undefined || !ACCESS_LEVELS.includes(access);
    })
    .map(describeRoute);
}

export const authPlugin = fp<AuthOptions>(
  async function auth(app: FastifyInstance, options: AuthOptions) {
    app.decorateRequest('apiKey', null);
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    app.addHook('onReady', async () => {
      const missing = routesMissingAccess(routes);
      if (missing.length > 0) {
        throw new Error(`Routes without config.access (${ACCESS_LEVELS.join(' | ')}): ${missing.join('; ')}`);
      }
    });

    // Before the database closes (onClose hooks run in reverse order of registration).
    if (options.failures) {
      const failures = options.failures;
      app.addHook('onClose', () => failures.close());
    }

    // onRequest: refuse before the body is even read.
    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access;
      if (access === undefined) return; // the not-found handler
      const header = request.headers.authorization;
      if (header !== undefined) request.apiKey = await authenticate(request, header, options);
      if (access === 'public') return;
      if (request.apiKey === null) {
        throw new AppError('AUTH_REQUIRED', `This endpoint needs a key with the ${access} role or higher.`, undefined, WWW_AUTHENTICATE);
      }
      if (!roleSatisfies(request.apiKey.role, access)) {
        throw new AppError('FORBIDDEN', `This endpoint needs the ${access} role; the key has ${request.apiKey.role}.`);
      }
    });
  },
  { name: 'lede-auth' },
);
