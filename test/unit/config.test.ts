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
    DATA_DIR: './data',
    LOG_LEVEL: 'info',
    TIMEZONE: 'Europe/Kyiv',
    DEFAULT_LOCALE: 'en',
    PUBLIC_BASE_URL: 'http://localhost:3000',
    BODY_LIMIT_BYTES: 1024 * 1024,
    CACHE_MAX_AGE_SECONDS: 60,
    CACHE_STALE_WHILE_REVALIDATE_SECONDS: 300,
    SHUTDOWN_GRACE_MS: 10_000,
    DEMO_CONTENT: true,
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
