import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

/**
 * docker-compose.yml can't be run here (no Docker engine), so this reads it: the services of
 * the scale-out topology are there, the API nodes are built from the Dockerfile and given only
 * variables the config accepts, with values it parses, and the files it mounts exist.
 * test/process/topology.test.ts runs the same environment and nginx template for real.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown };
}

// Merge keys: the api services share their settings through YAML anchors (<<: *api).
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const API_SERVICES = ['api-1', 'api-2'];

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === null ? '' : String(value)]));
}

/** Bind mounts as [host path, container path]. */
function bindMounts(service: Service): [string, string][] {
  return (service.volumes ?? []).flatMap((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      return source.startsWith('.') || source.startsWith('/') ? [[source, target] as [string, string]] : [];
    }
    return volume.type === 'bind' && volume.source && volume.target ? [[volume.source, volume.target] as [string, string]] : [];
  });
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? Object.fromEntries(deps.map((name) => [name, undefined])) : Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

t.test('the services of the topology', async (t) => {
  t.same(Object.keys(services).sort(), ['api-1', 'api-2', 'nginx', 'postgres-primary', 'postgres-replica']);
  for (const name of ['postgres-primary', 'postgres-replica']) t.equal(services[name]!.image, 'postgres:15', `${name} runs PostgreSQL 15`);
  t.match(services.nginx!.image, /^nginx:1\.22/);
  for (const [name, service] of Object.entries(services)) {
    if (name !== 'nginx') t.ok(service.healthcheck?.test, `${name} has a health check`);
  }
});

t.test('nginx publishes port 3000 and waits for both API nodes', async (t) => {
  const published = (services.nginx!.ports ?? []).map((port) =>
    typeof port === 'object' ? `${port.published}:${port.target}` : String(port).split(':').slice(-2).join(':'),
  );
  t.ok(published.includes('3000:3000'), `3000:3000 in ${JSON.stringify(published)}`);
  const deps = dependsOn(services.nginx!);
  for (const api of API_SERVICES) t.equal(deps[api], 'service_healthy', `nginx starts once ${api} is healthy`);
});

t.test('the API nodes are built from the Dockerfile', async (t) => {
  for (const name of API_SERVICES) {
    const build = services[name]!.build;
    t.ok(build, `${name} has a build`);
    const context = typeof build === 'string' ? build : (build?.context ?? '.');
    const dockerfile = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
    t.equal(join(ROOT, context, dockerfile), join(ROOT, 'Dockerfile'), `${name} builds ./Dockerfile`);
    t.equal(dependsOn(services[name]!)['postgres-primary'], 'service_healthy', `${name} starts once the primary is healthy`);
  }
});

t.test('the API nodes are given only variables the config accepts, with values it parses', async (t) => {
  for (const name of API_SERVICES) {
    const env = environment(services[name]!);
    t.ok(Object.keys(env).length > 0, `${name} has an environment`);
    let config: Record<string, unknown> = {};
    t.doesNotThrow(() => (config = loadConfig(env)), `${name}'s environment is a valid configuration`);
    // The schema drops names it does not know: a misspelt variable would silently do nothing.
    for (const variable of Object.keys(env)) t.ok(Object.hasOwn(config, variable), `${name}: ${variable} is a Lede variable`);
    t.ok(env.DATABASE_URL && env.DATABASE_READ_URLS, `${name} reads the primary and the replica`);
    // Each database URL's host is a service of this file.
    for (const url of [env.DATABASE_URL ?? '', ...(env.DATABASE_READ_URLS ?? '').split(',')].filter(Boolean)) {
      t.ok(Object.hasOwn(services, new URL(url).hostname), `${new URL(url).hostname} is a service`);
    }
    t.equal(new URL(env.DATABASE_URL!).hostname, 'postgres-primary');
    t.equal(new URL(env.DATABASE_READ_URLS!).hostname, 'postgres-replica');
  }
  // Demo content is loaded without a lock between processes: one node only.
  const demo = API_SERVICES.filter((name) => (loadConfig(environment(services[name]!)) as { DEMO_CONTENT: boolean }).DEMO_CONTENT);
  t.equal(demo.length, 1, `demo content on one node only (${demo.join(', ')})`);
});

t.test('the files it mounts exist, and nginx gets every placeholder of its template', async (t) => {
  const mounts = Object.entries(services).flatMap(([name, service]) => bindMounts(service).map(([source, target]) => ({ name, source, target })));
  t.ok(mounts.length >= 2, 'the nginx template and the primary init script are mounted');
  for (const { name, source } of mounts) t.ok(existsSync(join(ROOT, source)), `${name}: ${source} exists`);

  const templates = mounts.filter(({ name, target }) => name === 'nginx' && target.startsWith('/etc/nginx/templates/'));
  t.equal(templates.length, 1, 'nginx has a template in /etc/nginx/templates');
  const template = templates[0]!;
  t.match(template.target, /\.template$/, 'the image renders only *.template');
  t.equal(template.source, './deploy/nginx/lede.conf.template', 'the template the topology test renders');
  const placeholders = new Set([...readFileSync(join(ROOT, template.source), 'utf8').matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((match) => match[1]!));
  const nginxEnv = environment(services.nginx!);
  t.same([...placeholders].sort(), ['LEDE_API_1', 'LEDE_API_2', 'NGINX_PORT']);
  for (const placeholder of placeholders) t.ok(nginxEnv[placeholder], `nginx's environment sets ${placeholder}`);
  t.equal(nginxEnv.NGINX_PORT, '3000', 'nginx listens on the port it publishes');
  for (const [placeholder, api] of [['LEDE_API_1', 'api-1'], ['LEDE_API_2', 'api-2']] as const) {
    t.equal(nginxEnv[placeholder], `${api}:${environment(services[api]!).PORT ?? '3000'}`, `${placeholder} is ${api} on its port`);
  }

  const initScripts = mounts.filter(({ name, target }) => name === 'postgres-primary' && target.startsWith('/docker-entrypoint-initdb.d/'));
  t.equal(initScripts.length, 1, 'the primary gets an init script (the replication role and pg_hba line)');
});
