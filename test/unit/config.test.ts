import t, { type Test } from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems a bad environment produces, or fails the test when it is accepted. */
function problemsOf(t: Test, env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    t.ok(error instanceof ConfigError, 'a ConfigError');
    return (error as ConfigError).problems;
  }
  t.fail(`accepted ${JSON.stringify(env)}`);
  return [];
}

t.test('an empty environment gives the documented defaults', async (t) => {
  const config = loadConfig({});
  t.same(config, {
    PORT: 3000,
    HOST: '0.0.0.0',
    DATABASE_POOL_MAX: 10,
    DATABASE_READ_URLS: [],
    DATABASE_REPLICA_MAX_LAG_MS: 5_000,
    DATA_DIR: './data',
    LOG_LEVEL: 'info',
    TIMEZONE: 'Europe/Kyiv',
    DEFAULT_LOCALE: 'en',
    PUBLIC_BASE_URL: 'http://localhost:3000',
    SITE_ARTICLE_PATH: '/articles/{slug}',
    SITE_TAG_PATH: '/tags/{slug}',
    NEWSROOM_NAME: 'Lede',
    EVENTS_RETENTION_DAYS: 30,
    STREAM_MAX_CLIENTS: 10_000,
    STREAM_MAX_CLIENTS_PER_ADDRESS: 20,
    STREAM_BUFFER_BYTES: 1024 * 1024,
    STREAM_HEARTBEAT_MS: 15_000,
    WEBHOOK_RETRY_BASE_MS: 5000,
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: false,
    BODY_LIMIT_BYTES: 1024 * 1024,
    CACHE_MAX_AGE_SECONDS: 60,
    CACHE_STALE_WHILE_REVALIDATE_SECONDS: 300,
    RESPONSE_VALIDATION: false,
    RESPONSE_CACHE_MB: 64,
    SHUTDOWN_GRACE_MS: 10_000,
    DEMO_CONTENT: true,
    RATE_LIMIT_MAX: 1000,
    RATE_LIMIT_WINDOW: 60_000,
    TRUST_PROXY: false,
    AUTH_FAILURE_LIMIT: 20,
    AUTH_FAILURE_WINDOW: 60_000,
    KEY_CACHE_TTL: 60_000,
    CORS_ORIGINS: [],
    REQUEST_TIMEOUT_MS: 30_000,
    HEADERS_TIMEOUT_MS: 10_000,
    KEEP_ALIVE_TIMEOUT_MS: 72_000,
    CONNECTION_TIMEOUT_MS: 60_000,
  });
  t.equal(config.DATABASE_URL, undefined, 'no DATABASE_URL means the embedded database');
});

t.test('values are parsed into their types', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    DEMO_CONTENT: 'no',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '4',
    TIMEZONE: 'UTC',
    DATABASE_URL: 'postgresql://lede:secret@db:5432/lede',
  });
  t.equal(config.PORT, 8080);
  t.equal(config.DEMO_CONTENT, false);
  t.equal(config.LOG_LEVEL, 'warn');
  t.equal(config.DATABASE_POOL_MAX, 4);
  t.equal(config.TIMEZONE, 'UTC');
  t.equal(config.DATABASE_URL, 'postgresql://lede:secret@db:5432/lede');
  t.equal(loadConfig({ DEMO_CONTENT: '1' }).DEMO_CONTENT, true);
  t.equal(loadConfig({ DEMO_CONTENT: 'false' }).DEMO_CONTENT, false);
});

t.test('the config is frozen', async (t) => {
  const config = loadConfig({});
  t.ok(Object.isFrozen(config));
  t.throws(() => {
    (config as { PORT: number }).PORT = 1;
  }, TypeError);
  t.equal(config.PORT, 3000);
});

t.test('PORT=abc gives one problem line naming PORT', async (t) => {
  const problems = problemsOf(t, { PORT: 'abc' });
  t.equal(problems.length, 1);
  t.match(problems[0], /^PORT: must be a port number/);
  t.match(problems[0], /"abc"/, 'shows the value given');
});

t.test('TIMEZONE=Mars/Olympus gives one problem line naming TIMEZONE', async (t) => {
  const problems = problemsOf(t, { TIMEZONE: 'Mars/Olympus' });
  t.equal(problems.length, 1);
  t.match(problems[0], /^TIMEZONE: must be an IANA time zone/);
  t.match(problems[0], /"Mars\/Olympus"/);
});

t.test('several bad variables give one line each, all reported at once', async (t) => {
  const problems = problemsOf(t, { PORT: 'abc', TIMEZONE: 'Mars/Olympus', LOG_LEVEL: 'loud' });
  t.equal(problems.length, 3);
  t.same(
    problems.map((line) => line.split(':')[0]).sort(),
    ['LOG_LEVEL', 'PORT', 'TIMEZONE'],
  );
  for (const line of problems) t.notMatch(line, /\n/, 'one line per problem');

  try {
    loadConfig({ PORT: 'abc', TIMEZONE: 'Mars/Olympus' });
  } catch (error) {
    t.match((error as Error).message, /^Invalid configuration:\n {2}PORT: .*\n {2}TIMEZONE: /);
  }
});

t.test('out-of-range numbers are refused', async (t) => {
  t.match(problemsOf(t, { PORT: '70000' }), [/^PORT: /]);
  t.match(problemsOf(t, { PORT: '-1' }), [/^PORT: /]);
  t.match(problemsOf(t, { PORT: '80.5' }), [/^PORT: /]);
  t.match(problemsOf(t, { DATABASE_POOL_MAX: '0' }), [/^DATABASE_POOL_MAX: must be a positive whole number/]);
  t.match(problemsOf(t, { SHUTDOWN_GRACE_MS: 'soon' }), [/^SHUTDOWN_GRACE_MS: /]);
  t.match(problemsOf(t, { DEMO_CONTENT: 'maybe' }), [/^DEMO_CONTENT: /]);
});

t.test('an empty string counts as unset', async (t) => {
  const config = loadConfig({ PORT: '', TIMEZONE: '', DEFAULT_LOCALE: '', DATABASE_URL: '', DEMO_CONTENT: '', PUBLIC_BASE_URL: '' });
  t.equal(config.PORT, 3000);
  t.equal(config.TIMEZONE, 'Europe/Kyiv');
  t.equal(config.DEFAULT_LOCALE, 'en');
  t.equal(config.DATABASE_URL, undefined);
  t.equal(config.DEMO_CONTENT, true);
  t.equal(config.PUBLIC_BASE_URL, 'http://localhost:3000');
});

t.test('a blank PORT is not silently taken as port 0 (a random port)', async (t) => {
  let port: number | 'refused';
  try {
    port = loadConfig({ PORT: ' ' }).PORT;
  } catch {
    port = 'refused';
  }
  t.not(port, 0);
});

t.test('DEFAULT_LOCALE is canonicalised', async (t) => {
  t.equal(loadConfig({ DEFAULT_LOCALE: 'UK' }).DEFAULT_LOCALE, 'uk');
  t.equal(loadConfig({ DEFAULT_LOCALE: 'pt-br' }).DEFAULT_LOCALE, 'pt-BR');
  t.equal(loadConfig({ DEFAULT_LOCALE: 'EN-gb' }).DEFAULT_LOCALE, 'en-GB');
  t.match(problemsOf(t, { DEFAULT_LOCALE: 'english' }), [/^DEFAULT_LOCALE: must be a BCP 47 language tag/]);
  t.match(problemsOf(t, { DEFAULT_LOCALE: 'en_US' }), [/^DEFAULT_LOCALE: /]);
});

t.test('PUBLIC_BASE_URL loses its trailing slash and must be http(s)', async (t) => {
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://news.example/' }).PUBLIC_BASE_URL, 'https://news.example');
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://news.example/api//' }).PUBLIC_BASE_URL, 'https://news.example/api');
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'http://localhost:8080' }).PUBLIC_BASE_URL, 'http://localhost:8080');
  t.match(problemsOf(t, { PUBLIC_BASE_URL: 'ftp://news.example' }), [/^PUBLIC_BASE_URL: must be an http\(s\) URL/]);
  t.match(problemsOf(t, { PUBLIC_BASE_URL: 'news.example' }), [/^PUBLIC_BASE_URL: /]);
});

t.test('DATABASE_URL must be a postgres:// URL', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: 'postgres://localhost/lede' }).DATABASE_URL, 'postgres://localhost/lede');
  t.match(problemsOf(t, { DATABASE_URL: 'mysql://localhost/lede' }), [/^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/]);
  t.match(problemsOf(t, { DATABASE_URL: 'localhost:5432' }), [/^DATABASE_URL: /]);
});

t.test('DATABASE_READ_URLS is a list of postgres URLs; it and DATABASE_LISTEN_URL need DATABASE_URL', async (t) => {
  const primary = 'postgres://lede@primary:5432/lede';
  const config = loadConfig({
    DATABASE_URL: primary,
    DATABASE_READ_URLS: ' postgres://lede@replica-1/lede, postgresql://lede@replica-2:5433/lede,postgres://lede@replica-1/lede',
    DATABASE_REPLICA_MAX_LAG_MS: '250',
    DATABASE_LISTEN_URL: 'postgres://lede@primary-direct/lede',
  });
  t.same(config.DATABASE_READ_URLS, ['postgres://lede@replica-1/lede', 'postgresql://lede@replica-2:5433/lede'], 'trimmed, each once');
  t.equal(config.DATABASE_REPLICA_MAX_LAG_MS, 250);
  t.equal(config.DATABASE_LISTEN_URL, 'postgres://lede@primary-direct/lede');
  t.match(problemsOf(t, { DATABASE_URL: primary, DATABASE_READ_URLS: 'mysql://replica/lede' }), [/^DATABASE_READ_URLS: must be a comma-separated list of postgres/]);
  t.match(problemsOf(t, { DATABASE_URL: primary, DATABASE_READ_URLS: ' , ' }), [/^DATABASE_READ_URLS: /]);
  t.match(problemsOf(t, { DATABASE_URL: primary, DATABASE_REPLICA_MAX_LAG_MS: '0' }), [/^DATABASE_REPLICA_MAX_LAG_MS: /]);
  t.match(problemsOf(t, { DATABASE_READ_URLS: 'postgres://replica/lede' }), [/^DATABASE_READ_URLS: needs DATABASE_URL/]);
  t.match(problemsOf(t, { DATABASE_LISTEN_URL: 'postgres://primary/lede' }), [/^DATABASE_LISTEN_URL: needs DATABASE_URL/]);
});

t.test('RATE_LIMIT_MAX is a whole number; 0 turns the limit off', async (t) => {
  t.equal(loadConfig({ RATE_LIMIT_MAX: '250' }).RATE_LIMIT_MAX, 250);
  t.equal(loadConfig({ RATE_LIMIT_MAX: '0' }).RATE_LIMIT_MAX, 0);
  t.match(problemsOf(t, { RATE_LIMIT_MAX: '-1' }), [/^RATE_LIMIT_MAX: must be a whole number/]);
  t.match(problemsOf(t, { RATE_LIMIT_MAX: 'lots' }), [/^RATE_LIMIT_MAX: /]);
  t.match(problemsOf(t, { RATE_LIMIT_MAX: '2.5' }), [/^RATE_LIMIT_MAX: /]);
});

t.test('RATE_LIMIT_WINDOW is a duration from 1s to 24h, in milliseconds', async (t) => {
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '30s' }).RATE_LIMIT_WINDOW, 30_000);
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '15m' }).RATE_LIMIT_WINDOW, 900_000);
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '1h' }).RATE_LIMIT_WINDOW, 3_600_000);
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '90' }).RATE_LIMIT_WINDOW, 90_000, 'a bare number is seconds');
  t.equal(loadConfig({ RATE_LIMIT_WINDOW: '1500ms' }).RATE_LIMIT_WINDOW, 1_500);
  for (const bad of ['0s', '500ms', '25h', '1d', 'soon', '-1m', '1.5m']) {
    t.match(problemsOf(t, { RATE_LIMIT_WINDOW: bad }), [/^RATE_LIMIT_WINDOW: must be a duration/], bad);
  }
});

t.test('AUTH_FAILURE_LIMIT is a whole number (0 turns it off); its window and KEY_CACHE_TTL are durations', async (t) => {
  t.equal(loadConfig({ AUTH_FAILURE_LIMIT: '0' }).AUTH_FAILURE_LIMIT, 0);
  t.equal(loadConfig({ AUTH_FAILURE_LIMIT: '50' }).AUTH_FAILURE_LIMIT, 50);
  t.match(problemsOf(t, { AUTH_FAILURE_LIMIT: '-1' }), [/^AUTH_FAILURE_LIMIT: must be a whole number/]);
  t.equal(loadConfig({ AUTH_FAILURE_WINDOW: '15m' }).AUTH_FAILURE_WINDOW, 900_000);
  t.equal(loadConfig({ KEY_CACHE_TTL: '10s' }).KEY_CACHE_TTL, 10_000);
  for (const name of ['AUTH_FAILURE_WINDOW', 'KEY_CACHE_TTL']) {
    t.match(problemsOf(t, { [name]: '0s' }), [new RegExp(`^${name}: must be a duration`)], name);
  }
});

t.test('CORS_ORIGINS is *, or a list of origins; unset allows none', async (t) => {
  t.same(loadConfig({}).CORS_ORIGINS, []);
  t.equal(loadConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS, '*');
  t.same(loadConfig({ CORS_ORIGINS: 'https://news.example, http://localhost:5173/' }).CORS_ORIGINS, [
    'https://news.example',
    'http://localhost:5173',
  ]);
  t.same(loadConfig({ CORS_ORIGINS: 'HTTPS://News.Example:443' }).CORS_ORIGINS, ['https://news.example'], 'normalised as browsers send it');
  t.match(problemsOf(t, { CORS_ORIGINS: 'news.example' }), [/^CORS_ORIGINS: must be \* or a comma-separated list of origins/]);
  t.match(problemsOf(t, { CORS_ORIGINS: 'https://news.example/app' }), [/^CORS_ORIGINS: /], 'an origin has no path');
  t.match(problemsOf(t, { CORS_ORIGINS: 'https://a.example, ftp://b.example' }), [/^CORS_ORIGINS: .*"ftp:\/\/b\.example"/]);
});

t.test('EMBED_HOSTS is a list of host names, normalised; unset allows any host', async (t) => {
  t.equal(loadConfig({}).EMBED_HOSTS, undefined);
  t.equal(loadConfig({ EMBED_HOSTS: '  ' }).EMBED_HOSTS, undefined, 'blank is unset');
  t.same(loadConfig({ EMBED_HOSTS: 'www.youtube.com, Player.Vimeo.com,,' }).EMBED_HOSTS, ['www.youtube.com', 'player.vimeo.com']);
  t.same(loadConfig({ EMBED_HOSTS: 'відео.укр' }).EMBED_HOSTS, ['xn--b1aed0b0h.xn--j1amh'], 'as the URL parser writes the host');
  t.match(problemsOf(t, { EMBED_HOSTS: ',' }), [/^EMBED_HOSTS: must be a comma-separated list of host names/]);
  for (const bad of ['https://www.youtube.com', 'youtube.com/embed', 'youtube.com:443', 'user@youtube.com', 'you tube.com']) {
    t.match(problemsOf(t, { EMBED_HOSTS: `vimeo.com, ${bad}` }), [/^EMBED_HOSTS: .* is not one/], bad);
  }
});

t.test('TRUST_PROXY is true, false or a list of proxy addresses; never a hop count', async (t) => {
  t.equal(loadConfig({}).TRUST_PROXY, false);
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY, true);
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1, ::1, loopback' }).TRUST_PROXY, ['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']);
  t.match(problemsOf(t, { TRUST_PROXY: '1' }), [/^TRUST_PROXY: /]);
  t.match(problemsOf(t, { TRUST_PROXY: 'proxy.internal' }), [/^TRUST_PROXY: /]);
});

t.test('server timeouts are positive; the headers timeout fits in the request timeout', async (t) => {
  const config = loadConfig({ REQUEST_TIMEOUT_MS: '20000', HEADERS_TIMEOUT_MS: '20000', KEEP_ALIVE_TIMEOUT_MS: '5000', CONNECTION_TIMEOUT_MS: '1000' });
  t.equal(config.REQUEST_TIMEOUT_MS, 20_000);
  t.equal(config.HEADERS_TIMEOUT_MS, 20_000);
  t.equal(config.KEEP_ALIVE_TIMEOUT_MS, 5_000);
  t.equal(config.CONNECTION_TIMEOUT_MS, 1_000);
  t.match(problemsOf(t, { HEADERS_TIMEOUT_MS: '40000' }), [/^HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS \(30000\)/]);
  t.match(problemsOf(t, { REQUEST_TIMEOUT_MS: '0' }), [/^REQUEST_TIMEOUT_MS: must be a positive whole number/]);
  t.match(problemsOf(t, { KEEP_ALIVE_TIMEOUT_MS: 'long' }), [/^KEEP_ALIVE_TIMEOUT_MS: /]);
});

t.test('SITE_URL is an http(s) address; the site paths name known placeholders and one that is unique', async (t) => {
  t.equal(loadConfig({}).SITE_URL, undefined);
  t.equal(loadConfig({ SITE_URL: 'https://news.example/' }).SITE_URL, 'https://news.example', 'kept without a trailing slash');
  t.equal(loadConfig({ SITE_URL: 'https://news.example/en/' }).SITE_URL, 'https://news.example/en', 'a path prefix stays');
  for (const bad of ['news.example', 'ftp://news.example', 'https://news.example/?q=1', 'https://user:pw@news.example']) {
    t.match(problemsOf(t, { SITE_URL: bad }), [/^SITE_URL: must be the http\(s\) address of the news website/], bad);
  }
  const path = '/{section}/{yyyy}/{mm}/{dd}/{slug}-{id}';
  t.equal(loadConfig({ SITE_ARTICLE_PATH: path }).SITE_ARTICLE_PATH, path);
  t.match(problemsOf(t, { SITE_ARTICLE_PATH: 'articles/{slug}' }), [/^SITE_ARTICLE_PATH: must start with \//]);
  t.match(problemsOf(t, { SITE_ARTICLE_PATH: '/{yyyy}/{title}' }), [/^SITE_ARTICLE_PATH: has unknown placeholders \{title\}/]);
  t.match(problemsOf(t, { SITE_ARTICLE_PATH: '/{section}/{yyyy}' }), [/^SITE_ARTICLE_PATH: must contain \{slug\} or \{id\}/]);
  t.match(problemsOf(t, { SITE_ARTICLE_PATH: '/a/{slug}?x=1' }), [/^SITE_ARTICLE_PATH: must be a path without spaces, query or fragment/]);
  t.match(problemsOf(t, { SITE_TAG_PATH: '/tags/{section}/{slug}' }), [/^SITE_TAG_PATH: has unknown placeholders \{section\}/]);
  t.match(problemsOf(t, { NEWSROOM_NAME: ' '.repeat(3) + 'x'.repeat(201) }), [/^NEWSROOM_NAME: /]);
});
