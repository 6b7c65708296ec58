import { z } from 'zod';
import { canonicalLocale } from './lib/locale.js';
import { isValidTimeZone } from './lib/time-zone.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a positive whole number' })
    .int('must be a positive whole number')
    .positive('must be a positive whole number')
    .default(fallback);

const nonNegativeInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number, 0 or more' })
    .int('must be a whole number, 0 or more')
    .min(0, 'must be a whole number, 0 or more')
    .default(fallback);

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const MIN_RATE_LIMIT_WINDOW_MS = 1_000;
const MAX_RATE_LIMIT_WINDOW_MS = 24 * 3_600_000;
const DURATION_MESSAGE = 'must be a duration of 1s to 24h such as 30s, 1m or 1h (a bare number is seconds)';

/** `30s`, `1m`, `1h`, `500ms` or a bare number of seconds, in milliseconds. */
const duration = z.string().transform((value, ctx) => {
  const match = /^\s*(\d+)\s*(ms|s|m|h)?\s*$/.exec(value);
  const ms = match ? Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 0) : NaN;
  if (!(ms >= MIN_RATE_LIMIT_WINDOW_MS && ms <= MAX_RATE_LIMIT_WINDOW_MS)) {
    ctx.addIssue({ code: 'custom', message: DURATION_MESSAGE });
    return z.NEVER;
  }
  return ms;
});

const CORS_ORIGIN_MESSAGE = 'must be * or a comma-separated list of origins such as https://news.example';

/** `*`, or a list of origins (scheme, host and port; no path), each normalised as browsers send it. */
const corsOrigins = z.string().transform((value, ctx): '*' | string[] => {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 1 && items[0] === '*') return '*';
  const origins: string[] = [];
  for (const item of items) {
    const url = URL.canParse(item) ? new URL(item) : null;
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
      ctx.addIssue({ code: 'custom', message: items.length > 1 ? `${CORS_ORIGIN_MESSAGE}; "${item}" is not one` : CORS_ORIGIN_MESSAGE });
      return z.NEVER;
    }
    origins.push(url.origin);
  }
  return origins;
});

const EMBED_HOSTS_MESSAGE = 'must be a comma-separated list of host names such as www.youtube.com';

/**
 * Host names embed blocks may point at, each as the URL parser writes it (lowercase, punycode);
 * unset: any host. Exact names: a subdomain is its own entry.
 */
const embedHosts = z.string().transform((value, ctx): string[] => {
  const hosts: string[] = [];
  for (const item of value.split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const url = /^[^/\\?#@:\s]+$/.test(item) && URL.canParse(`https://${item}`) ? new URL(`https://${item}`) : null;
    if (!url) {
      ctx.addIssue({ code: 'custom', message: `${EMBED_HOSTS_MESSAGE}; "${item}" is not one` });
      return z.NEVER;
    }
    hosts.push(url.hostname);
  }
  if (hosts.length === 0) {
    ctx.addIssue({ code: 'custom', message: EMBED_HOSTS_MESSAGE });
    return z.NEVER;
  }
  return hosts;
});

const READ_URLS_MESSAGE = 'must be a comma-separated list of postgres:// or postgresql:// URLs';

/** Streaming replicas for anonymous reads: a list of PostgreSQL URLs, each at most once. */
const postgresUrlList = z.string().transform((value, ctx): string[] => {
  const urls = [...new Set(value.split(',').map((item) => item.trim()).filter(Boolean))];
  const bad = urls.find((url) => !/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url));
  if (urls.length === 0 || bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: bad === undefined ? READ_URLS_MESSAGE : `${READ_URLS_MESSAGE}; one is not` });
    return z.NEVER;
  }
  return urls;
});

const TRUST_PROXY_MESSAGE =
  'must be true, false, or a comma-separated list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)';
const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Fastify's trustProxy: whose X-Forwarded-For to believe about the client's address (which the
 * per-address rate limit counts by). Hop counts are refused: Fastify cannot check the peer with one.
 */
const trustProxy = z.string().transform((value, ctx): boolean | string[] => {
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  const entries = text.split(',').map((item) => item.trim()).filter(Boolean);
  const valid = (entry: string) => PROXY_PRESETS.has(entry) || /^[0-9a-f:.]*[:.][0-9a-f:.]*(\/\d{1,3})?$/.test(entry);
  if (entries.length === 0 || !entries.every(valid)) {
    ctx.addIssue({ code: 'custom', message: TRUST_PROXY_MESSAGE });
    return z.NEVER;
  }
  return entries;
});

const SITE_PATH_PLACEHOLDERS = ['slug', 'id', 'locale', 'section', 'yyyy', 'mm', 'dd'] as const;
export type SitePathPlaceholder = (typeof SITE_PATH_PLACEHOLDERS)[number];

/**
 * A path on the news website with `{placeholder}`s: it starts with `/`, names only known
 * placeholders, and has at least `{slug}` or `{id}` so that two articles never share a page.
 */
const sitePath = (allowed: readonly SitePathPlaceholder[]) =>
  z.string().transform((value, ctx) => {
    const path = value.trim();
    const names = [...path.matchAll(/\{([^}]*)\}/g)].map((match) => match[1] ?? '');
    const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
    const problem = !path.startsWith('/')
      ? 'must start with /'
      : /[\s?#]/.test(path.replace(/\{[^}]*\}/g, ''))
        ? 'must be a path without spaces, query or fragment'
        : unknown.length > 0
          ? `has unknown placeholders ${unknown.map((name) => `{${name}}`).join(', ')}; known: ${allowed.map((name) => `{${name}}`).join(' ')}`
          : !names.includes('slug') && !names.includes('id')
            ? 'must contain {slug} or {id}'
            : null;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return path;
  });

/** The website's root: http(s), no query or fragment; kept without a trailing slash. */
const siteUrl = z.string().transform((value, ctx) => {
  const url = URL.canParse(value.trim()) ? new URL(value.trim()) : null;
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must be the http(s) address of the news website, such as https://news.example' });
    return z.NEVER;
  }
  return url.href.replace(/\/+$/, '');
});

/** The whole environment contract. Nothing else in the code base reads process.env. */
const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number 0–65535' })
    .int('must be a port number 0–65535')
    .min(0, 'must be a port number 0–65535')
    .max(65535, 'must be a port number 0–65535')
    .default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_MAX: positiveInt(10),
  // Streaming replicas that serve anonymous reads (docs/deploy.md); each gets
  // a pool of DATABASE_POOL_MAX. Keyed reads and writes stay on DATABASE_URL.
  DATABASE_READ_URLS: postgresUrlList.default(() => []),
  // A replica further behind the primary than this is skipped until it catches up.
  DATABASE_REPLICA_MAX_LAG_MS: positiveInt(5_000),
  // A direct connection for LISTEN when DATABASE_URL goes through a pooler in transaction mode
  // (which cannot keep a session listening); unset: DATABASE_URL.
  DATABASE_LISTEN_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  TIMEZONE: z
    .string()
    .default('Europe/Kyiv')
    .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Kyiv'),
  DEFAULT_LOCALE: z
    .string()
    .default('en')
    .transform((tag, ctx) => {
      const canonical = canonicalLocale(tag);
      if (canonical === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag such as en or uk' });
        return z.NEVER;
      }
      return canonical;
    }),
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('http://localhost:3000')
    .transform((url) => url.replace(/\/+$/, '')),
  // The news website that renders the content (README: Public site URLs); unset, items link to the API.
  SITE_URL: siteUrl.optional(),
  SITE_ARTICLE_PATH: sitePath(SITE_PATH_PLACEHOLDERS).default('/articles/{slug}'),
  SITE_TAG_PATH: sitePath(['slug', 'id', 'locale']).default('/tags/{slug}'),
  // The publication's name, in feeds and news sitemaps.
  NEWSROOM_NAME: z.string().trim().min(1).max(200).default('Lede'),
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(60),
  CACHE_STALE_WHILE_REVALIDATE_SECONDS: z.coerce.number().int().min(0).default(300),
  // Also check every response against its Zod schema before sending (the tests do).
  RESPONSE_VALIDATION: booleanFlag.default(false),
  // In-process cache of anonymous responses (docs/adr/0006); 0 turns it off.
  RESPONSE_CACHE_MB: nonNegativeInt(64),
  SHUTDOWN_GRACE_MS: positiveInt(10_000),
  DEMO_CONTENT: booleanFlag.default(true),
  // Limits (README: Limits). RATE_LIMIT_MAX=0 turns rate limiting off.
  RATE_LIMIT_MAX: nonNegativeInt(1000),
  RATE_LIMIT_WINDOW: duration.default(60_000),
  TRUST_PROXY: trustProxy.default(false),
  // Failed authentications (unknown, revoked or malformed keys) per client address per window,
  // past which keyed requests from it are 429 before any lookup; 0 turns the limit off.
  AUTH_FAILURE_LIMIT: nonNegativeInt(20),
  AUTH_FAILURE_WINDOW: duration.default(60_000),
  // How long a process keeps a resolved key before reading it again (a backstop for keys revoked
  // or deleted without an announcement, e.g. straight in SQL).
  KEY_CACHE_TTL: duration.default(60_000),
  CORS_ORIGINS: corsOrigins.default(() => []),
  EMBED_HOSTS: embedHosts.optional(),
  REQUEST_TIMEOUT_MS: positiveInt(30_000),
  HEADERS_TIMEOUT_MS: positiveInt(10_000),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt(72_000),
  CONNECTION_TIMEOUT_MS: positiveInt(60_000),
  // Events (README: Events and webhooks): how long the change log keeps events.
  EVENTS_RETENTION_DAYS: positiveInt(30),
  // Live event streams (README: Live events): open streams per process and per client address,
  // the bytes a stream may have waiting before it is dropped, and the heartbeat's period.
  STREAM_MAX_CLIENTS: positiveInt(10_000),
  STREAM_MAX_CLIENTS_PER_ADDRESS: positiveInt(20),
  STREAM_BUFFER_BYTES: positiveInt(1024 * 1024),
  STREAM_HEARTBEAT_MS: positiveInt(15_000),
  // The first retry of a failed webhook delivery waits about this long; each next one twice or more.
  WEBHOOK_RETRY_BASE_MS: positiveInt(5_000),
  // Lets webhooks target loopback and private addresses: for development and tests only.
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: booleanFlag.default(false),
}).superRefine((env, ctx) => {
  for (const name of ['DATABASE_READ_URLS', 'DATABASE_LISTEN_URL'] as const) {
    const given = name === 'DATABASE_READ_URLS' ? env[name].length > 0 : env[name] !== undefined;
    if (given && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'needs DATABASE_URL (the primary): the embedded database has no replicas' });
    }
  }
  // Node refuses a server whose headers timeout outlasts its request timeout.
  if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['HEADERS_TIMEOUT_MS'],
      message: `must not exceed REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})`,
    });
  }
});

export type Config = Readonly<z.output<typeof EnvSchema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Blank values count as unset, so `PORT=` in a .env file falls back to the default. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') cleaned[key] = value;
  }
  return cleaned;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = EnvSchema.safeParse(withoutEmptyValues(env));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const given = env[name];
      return `${name}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}

/** A config for tests and tools: defaults plus overrides, validated the same way. */
export function configFrom(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig(overrides);
}
