import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import t from 'tap';
import { buildTestApp, json, type TestApp } from '../helper.js';
import { CHROMIUM, CHROMIUM_ARGS as BROWSER_ARGS } from './chromium.js';

/**
 * The docs page in a real browser, against a listening app: it renders, "Try it out" reaches the
 * API that served it, and nothing the page loads comes from another host. The page is opened on
 * 127.0.0.1, and again by a name that is not loopback, over plain http, as a newsroom's LAN
 * address would be: the browser resolves that name to 127.0.0.1 and no other name at all.
 * (Another loopback address such as 127.0.0.2 would not do: Chromium treats all of 127/8 as
 * trustworthy and never upgrades its requests to https.)
 */
const LAN_HOST = 'docs.newsroom.test';
const CHROMIUM_ARGS = [`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1,MAP * ~NOTFOUND,EXCLUDE 127.0.0.1`, ...BROWSER_ARGS];
// Generous: on two busy cores the first render of the page alone can take several seconds.
const STEP_TIMEOUT_MS = 20_000;

if (!existsSync(CHROMIUM)) {
  t.plan(0, `no browser at ${CHROMIUM}: install Debian's chromium package to run the docs page test`);
} else {
  await runBrowserTests();
}

async function publishedArticle(app: TestApp['app'], editor: { authorization: string }, title: string): Promise<void> {
  const created = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title } });
  const { id, version } = json<{ id: string; version: number }>(created);
  const published = await app.inject({
    method: 'POST',
    url: `/v1/articles/${id}/publish`,
    headers: { ...editor, 'if-match': `"v${version}"` },
  });
  if (published.statusCode !== 200) throw new Error(`publishing failed: ${published.statusCode} ${published.body}`);
}

/** What the page did: every URL it requested, console errors, uncaught errors, failed loads. */
interface PageRecord {
  requests: string[];
  blocked: string[];
  errors: string[];
}

async function openDocs(context: BrowserContext, origin: string): Promise<{ page: Page; record: PageRecord }> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const record: PageRecord = { requests: [], blocked: [], errors: [] };
  page.on('request', (request) => void record.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') record.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => void record.errors.push(`page: ${error.message}`));
  page.on('requestfailed', (request) => void record.errors.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  // Nothing may leave the origin: a request elsewhere (another host, or https) is recorded and refused.
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    record.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await page.goto(`${origin}/docs/`);
  return { page, record };
}

async function authorise(page: Page, key: string): Promise<void> {
  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.locator('input').first().fill(key);
  await dialog.locator('.auth-btn-wrapper button.authorize').click();
  await dialog.locator('.auth-btn-wrapper button.btn-done').click();
}

/**
 * Opens an operation, presses "Try it out" (with an optional body) and "Execute", and waits for
 * the page to show an outcome. Returns the request the page sent (null when it sent none), its
 * response (null when it got none) and the status the page shows.
 */
async function tryItOut(page: Page, operation: string, method: string, path: string, body?: string) {
  const block = page.locator(`#operations-${operation}`);
  await block.locator('.opblock-summary').click();
  await block.locator('button.try-out__btn').click();
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(body);
  const sent: Request[] = [];
  const onRequest = (request: Request) => {
    if (request.method() === method && new URL(request.url()).pathname === path) sent.push(request);
  };
  page.on('request', onRequest);
  await block.locator('button.execute').click();
  const shown = await block.locator('.live-responses-table tbody .response-col_status').first().innerText();
  page.off('request', onRequest);
  const request = sent[0] ?? null;
  return { url: request && new URL(request.url()), response: request && (await request.response()), shown };
}

async function runBrowserTests(): Promise<void> {
  const { app, authAs } = await buildTestApp(t);
  const editor = await authAs('editor', 'docs page');
  await publishedArticle(app, editor, 'Kyiv metro runs through the night');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;

  const userDataDir = mkdtempSync(join(tmpdir(), 'lede-chromium-'));
  t.teardown(() => rmSync(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.teardown(() => context.close());

  const origins = [`http://127.0.0.1:${port}`, `http://${LAN_HOST}:${port}`];
  for (const [index, origin] of origins.entries()) {
    await t.test(`the docs page on ${origin}: authorise, list articles, create a tag`, async (t) => {
      const { page, record } = await openDocs(context, origin);
      t.teardown(() => page.close());
      try {
        await page.locator('.swagger-ui .info .title').waitFor();
        await authorise(page, editor.authorization.replace(/^Bearer /, ''));

        const list = await tryItOut(page, 'Articles-listArticles', 'GET', '/v1/articles');
        t.equal(list.url?.origin, origin, 'the request goes to the host that served the page');
        t.equal(list.response?.status(), 200);
        t.match(list.shown, /200/, 'the page shows the status');
        t.same([...(list.url?.searchParams.keys() ?? [])].filter((name) => name !== 'limit'), [], 'no filter is sent unless typed');
        const listed = ((await list.response?.json()) ?? { data: [] }) as { data: { title: string }[] };
        t.same(
          listed.data.map((article) => article.title),
          ['Kyiv metro runs through the night'],
          'an empty try-it-out lists the articles',
        );

        const tag = JSON.stringify({ name: `Docs page ${index + 1}`, locale: 'en' });
        const created = await tryItOut(page, 'Tags-createTag', 'POST', '/v1/tags', tag);
        t.equal(created.url?.origin, origin);
        t.equal(created.response?.status(), 201, 'the key from the Authorize dialog is sent');
        t.match(created.shown, /201/);
      } finally {
        // Asserted even when a step above failed: what went wrong is usually in here.
        t.same(record.errors, [], 'no console errors, uncaught errors or failed loads');
        t.same(record.blocked, [], 'no request to another host');
        const seen = new Set(record.requests.filter((url) => !url.startsWith('data:')).map((url) => new URL(url).origin));
        t.same([...seen], [origin], 'every request goes to the host, port and scheme that served the page');
      }
    });
  }
}
