import t from 'tap';
import { buildTestApp, json } from '../helper.js';

/**
 * What lets the docs page work wherever it is served, read from the document and the page's
 * headers (test/process/docs-browser.test.ts drives the page itself in a browser).
 */
const { app } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'https://api.newsroom.test' } });

interface Parameter {
  in: string;
  name: string;
}
interface OpenApiDocument {
  servers?: { url: string }[];
  paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
}

const document = json<OpenApiDocument>(await app.inject({ url: '/openapi.json' }));

/** Every key named `example` or `examples` anywhere under a value, with its path. */
function examplesIn(value: unknown, path: string): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'example' || key === 'examples' ? [`${path}.${key}`] : examplesIn(inner, `${path}.${key}`),
  );
}

t.test('servers is relative: "Try it out" calls the host that served the page, not PUBLIC_BASE_URL', async (t) => {
  t.same(document.servers?.map((server) => server.url), ['/']);
});

t.test('no query parameter carries an example that swagger-ui would send as a filter', async (t) => {
  let queryParameters = 0;
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'query') continue;
        queryParameters += 1;
        t.same(examplesIn(parameter, parameter.name), [], `${method.toUpperCase()} ${path} ?${parameter.name}`);
      }
    }
  }
  t.ok(queryParameters > 10, `${queryParameters} query parameters checked`);
});

t.test('the docs page: its own origin only, calls included, and no upgrade to https', async (t) => {
  for (const url of ['/docs/', '/docs/json', '/docs/static/swagger-ui-bundle.js']) {
    const response = await app.inject({ url });
    t.equal(response.statusCode, 200, url);
    const directives = new Map(
      String(response.headers['content-security-policy'])
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .filter(([name]) => name)
        .map(([name, ...sources]) => [name, sources]),
    );
    t.same(directives.get('default-src'), ["'self'"], `${url}: default-src`);
    t.same(directives.get('connect-src'), ["'self'"], `${url}: connect-src`);
    t.same(directives.get('script-src'), ["'self'"], `${url}: script-src`);
    t.same(directives.get('object-src'), ["'none'"], `${url}: object-src`);
    t.notOk(directives.has('upgrade-insecure-requests'), `${url}: no upgrade-insecure-requests`);
    const everySource = [...directives.values()].flat();
    t.notOk(everySource.includes("'unsafe-inline'") || everySource.includes("'unsafe-eval'"), `${url}: nothing unsafe`);
    t.notOk(everySource.includes('https:'), `${url}: no other origins`);
  }
});
