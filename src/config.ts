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
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(60),
  CACHE_STALE_WHILE_REVALIDATE_SECONDS: z.coerce.number().int().min(0).default(300),
  SHUTDOWN_GRACE_MS: positiveInt(10_000),
  DEMO_CONTENT: booleanFlag.default(true),
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
