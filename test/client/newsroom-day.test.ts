import { readFileSync } from 'node:fs';
import createClient from 'openapi-fetch';
import t from 'tap';
import type { paths } from '../../openapi/openapi.js';
import { generateTypes } from '../../scripts/openapi-types.js';
import { buildTestApp } from '../helper.js';
import { contractChecker, type Exchange, injectFetch } from './contract.js';
import { newsroomDay } from './newsroom-day.js';

// The committed document is what integrators generate clients from: the types generated from it
// are the committed ones (so the day's script was type-checked against them), and every answer
// of the day matches it.

const document = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as Record<string, unknown>;

t.test('the committed client types are those openapi-typescript makes from the document', async (t) => {
  const committed = readFileSync(new URL('../../openapi/openapi.d.ts', import.meta.url), 'utf8');
  t.ok((await generateTypes()) === committed, 'openapi/openapi.d.ts is up to date (npm run openapi)');
});

t.test("a newsroom's day through the generated client matches the document", async (t) => {
  const { app, authAs } = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '0' } });
  const editor = await authAs('editor', 'Newsdesk');
  const check = contractChecker(document);
  const exchanges: Exchange[] = [];
  const client = createClient<paths>({ baseUrl: 'http://lede.test', fetch: injectFetch(app, (exchange) => exchanges.push(exchange)) });

  const day = await newsroomDay(client, editor.key);
  t.same(day.failures, [], `${day.steps} steps answered as the integrator expected`);
  t.ok(exchanges.length >= 30, `${exchanges.length} requests made`);
  const mismatches = exchanges.flatMap(check);
  t.same(mismatches, [], 'every answer matches the document: status, content type, headers, body');
});
