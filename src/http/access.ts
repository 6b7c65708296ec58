import type { ApiKeyRole } from '../db/schema/keys.js';

/** Who may call a route: anyone (`public`), or a key of at least this role. */
export type Access = 'public' | ApiKeyRole;

export const ACCESS_LEVELS: readonly Access[] = ['public', 'reader', 'editor', 'admin'];

const RANK: Record<Access, number> = { public: 0, reader: 1, editor: 2, admin: 3 };

export function roleSatisfies(role: ApiKeyRole, required: Access): boolean {
  return RANK[role] >= RANK[required];
}

export interface AuthenticatedKey {
  id: string;
  name: string;
  role: ApiKeyRole;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Mandatory on every route: the app refuses to start when a route leaves it out. */
    access?: Access;
    /** A long-lived event stream (text/event-stream): never cached, no ETag. */
    stream?: boolean;
  }
  interface FastifyRequest {
    /** The caller's key, or null for an anonymous request. */
    apiKey: AuthenticatedKey | null;
  }
}
