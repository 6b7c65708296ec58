import type { LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import { buildTestApp, json } from '../helper.js';
import { apiOperations, problemShapeError, stateDifference, tableState } from './api-surface.js';
import { injectOrListen } from './inject-stream.js';

/**
 * Who may do what, for every operation the app documents, and proof that what anonymous readers
 * must not see (drafts, scheduled, archived and deleted articles) reaches them through no door.
 */

// Rate limiting and the failed-authentication limit (when configured) must not turn an access answer
// into a 429 halfway through.
const { app, database, authAs } = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '1000000', AUTH_FAILURE_LIMIT: '0', SITE_URL: 'https://news.example' } });
const operations = await apiOperations(app);

type Role = 'anonymous' | 'reader' | 'editor' | 'admin' | 'revoked';
type Access = 'public' | 'reader' | 'editor' | 'admin';
const ROLES: Role[] = ['anonymous', 'reader', 'editor', 'admin', 'revoked'];
const RANK: Record<Access, number> = { public: 0, reader: 1, editor: 2, admin: 3 };

const fixtureKey = await authAs('editor', 'access fixtures');
const fixtures = { authorization: fixtureKey.authorization };
const keyAdminKey = await authAs('admin', 'access key admin');
const keyAdmin = { authorization: keyAdminKey.authorization };
const callers: Record<Role, Record<string, string>> = {
  anonymous: {},
  reader: { authorization: (await authAs('reader', 'access reader')).authorization },
  editor: { authorization: (await authAs('editor', 'access editor')).authorization },
  admin: { authorization: (await authAs('admin', 'access admin')).authorization },
  revoked: {},
};
// The strongest role, revoked over HTTP: it must open nothing, not even public reads.
const doomed = await authAs('admin', 'access revoked');
if ((await app.inject({ method: 'DELETE', url: `/v1/keys/${doomed.id}`, headers: keyAdmin })).statusCode !== 204) {
  throw new Error('could not revoke the fixture key');
}
callers.revoked = { authorization: doomed.authorization };

/* ------------------------------------------------------------------------------------------ */
/* Fixtures made by their own editor key.                                                       */

interface Resource {
  id: string;
  slug?: string;
  version: number;
  etag: string;
}

let serial = 0;
const unique = (label: string) => `${label} ${(serial += 1)}`;

async function made(response: LightMyRequestResponse): Promise<Resource> {
  if (response.statusCode >= 300) throw new Error(`fixture request failed: ${response.statusCode} ${response.body}`);
  const body = json<{ id: string; slug?: string; version: number }>(response);
  return { id: body.id, slug: body.slug, version: body.version, etag: String(response.headers.etag) };
}

const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { ...fixtures, ...headers }, ...(payload ? { payload } : {}) });

const newTag = () => post('/v1/tags', { name: unique('Access tag') }).then(made);
const newDraft = (payload: object = {}) => post('/v1/articles', { title: unique('Access article'), ...payload }).then(made);
const publish = async (article: Resource, payload?: object) =>
  made(await post(`/v1/articles/${article.id}/publish`, payload, { 'if-match': article.etag }));
const newPublished = async () => publish(await newDraft());
const newEntry = () => post('/v1/timeline', { title: unique('Access flash') }).then(made);
const newKey = () => authAs('reader', unique('access victim'));

// Webhooks aimed at a name that never resolves, and off: the access calls send nothing anywhere.
const newWebhook = async () =>
  json<{ id: string }>(
    await app.inject({ method: 'POST', url: '/v1/webhooks', headers: keyAdmin, payload: { url: 'https://hooks.invalid/access', events: ['*'], enabled: false } }),
  );
/** A failed delivery, written as the worker would leave one, to be retried by hand. */
const newFailedDelivery = async () => {
  const hook = await newWebhook();
  const result = (await database.db.execute(sql`
    insert into webhook_deliveries (webhook_id, event_id, event_type, event_occurred_at, body, status, retry_until)
    values (${hook.id}, 1, 'tag.created', now(), '{}', 'failed', now()) returning id`)) as unknown as { rows: { id: string }[] };
  return { webhookId: hook.id, id: String(result.rows[0]?.id) };
};

const tag = await newTag();
const draft = await newDraft();
const published = await newPublished();
const entry = await newEntry();

/* ------------------------------------------------------------------------------------------ */
/* The table, one row per operation: the least role that may call it. Without a key, published  */
/* content only; a reader key also sees drafts, an editor writes content, an admin also manages */
/* keys (README: How the API behaves).                                                          */

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: object;
  headers?: Record<string, string>;
}

interface Row {
  access: Access;
  /** Makes what the call needs (fresh for anything it consumes) and returns it. */
  call(): Promise<Call>;
  /** The status an allowed caller gets; anonymous may differ (a draft is 404 to them). */
  allowed: number;
  allowedAnonymous?: number;
}

const TABLE: Record<string, Row> = {
  health: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/healthz' }) },
  ready: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/readyz' }) },
  metrics: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/metrics' }) },

  createApiKey: { access: 'admin', allowed: 201, call: async () => ({ method: 'POST', url: '/v1/keys', payload: { name: unique('key'), role: 'reader' } }) },
  listApiKeys: { access: 'admin', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/keys' }) },
  getApiKey: { access: 'admin', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/keys/${(await newKey()).id}` }) },
  revokeApiKey: { access: 'admin', allowed: 204, call: async () => ({ method: 'DELETE', url: `/v1/keys/${(await newKey()).id}` }) },

  createWebhook: {
    access: 'admin',
    allowed: 201,
    call: async () => ({ method: 'POST', url: '/v1/webhooks', payload: { url: 'https://hooks.invalid/created', events: ['tag.*'], enabled: false } }),
  },
  listWebhooks: { access: 'admin', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/webhooks' }) },
  getWebhook: { access: 'admin', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/webhooks/${(await newWebhook()).id}` }) },
  updateWebhook: {
    access: 'admin',
    allowed: 200,
    call: async () => ({ method: 'PATCH', url: `/v1/webhooks/${(await newWebhook()).id}`, payload: { description: 'Changed' } }),
  },
  deleteWebhook: { access: 'admin', allowed: 204, call: async () => ({ method: 'DELETE', url: `/v1/webhooks/${(await newWebhook()).id}` }) },
  listWebhookDeliveries: { access: 'admin', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/webhooks/${(await newWebhook()).id}/deliveries` }) },
  retryWebhookDelivery: {
    access: 'admin',
    allowed: 202,
    call: async () => {
      const delivery = await newFailedDelivery();
      return { method: 'POST', url: `/v1/webhooks/${delivery.webhookId}/deliveries/${delivery.id}/retry` };
    },
  },

  listTags: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/tags' }) },
  getTag: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/tags/${tag.slug}` }) },
  createTag: { access: 'editor', allowed: 201, call: async () => ({ method: 'POST', url: '/v1/tags', payload: { name: unique('Created tag') } }) },
  updateTag: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newTag();
      return { method: 'PATCH', url: `/v1/tags/${fresh.id}`, headers: { 'if-match': fresh.etag }, payload: { description: 'Changed' } };
    },
  },
  deleteTag: {
    access: 'editor',
    allowed: 204,
    call: async () => {
      const fresh = await newTag();
      return { method: 'DELETE', url: `/v1/tags/${fresh.id}`, headers: { 'if-match': fresh.etag } };
    },
  },

  listArticles: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/articles' }) },
  // A draft: keys of every role preview it; anonymous readers are told it does not exist.
  getArticle: { access: 'public', allowed: 200, allowedAnonymous: 404, call: async () => ({ method: 'GET', url: `/v1/articles/${draft.id}` }) },
  createArticle: { access: 'editor', allowed: 201, call: async () => ({ method: 'POST', url: '/v1/articles', payload: { title: unique('Created article') } }) },
  updateArticle: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newDraft();
      return { method: 'PATCH', url: `/v1/articles/${fresh.id}`, headers: { 'if-match': fresh.etag }, payload: { lead: 'Changed' } };
    },
  },
  deleteArticle: {
    access: 'editor',
    allowed: 204,
    call: async () => {
      const fresh = await newDraft();
      return { method: 'DELETE', url: `/v1/articles/${fresh.id}`, headers: { 'if-match': fresh.etag } };
    },
  },
  publishArticle: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newDraft();
      return { method: 'POST', url: `/v1/articles/${fresh.id}/publish`, headers: { 'if-match': fresh.etag } };
    },
  },
  unpublishArticle: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newPublished();
      return { method: 'POST', url: `/v1/articles/${fresh.id}/unpublish`, headers: { 'if-match': fresh.etag } };
    },
  },
  archiveArticle: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newPublished();
      return { method: 'POST', url: `/v1/articles/${fresh.id}/archive`, headers: { 'if-match': fresh.etag } };
    },
  },
  listArticleRevisions: { access: 'editor', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/articles/${published.id}/revisions` }) },
  getArticleRevision: { access: 'editor', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/articles/${published.id}/revisions/1` }) },

  listTimeline: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/timeline' }) },
  getTimelineEntry: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: `/v1/timeline/${entry.id}` }) },
  createTimelineEntry: { access: 'editor', allowed: 201, call: async () => ({ method: 'POST', url: '/v1/timeline', payload: { title: unique('Created flash') } }) },
  updateTimelineEntry: {
    access: 'editor',
    allowed: 200,
    call: async () => {
      const fresh = await newEntry();
      return { method: 'PATCH', url: `/v1/timeline/${fresh.id}`, headers: { 'if-match': fresh.etag }, payload: { label: 'breaking' } };
    },
  },
  deleteTimelineEntry: {
    access: 'editor',
    allowed: 204,
    call: async () => {
      const fresh = await newEntry();
      return { method: 'DELETE', url: `/v1/timeline/${fresh.id}`, headers: { 'if-match': fresh.etag } };
    },
  },

  articlesFeed: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/feeds/articles.atom' }) },
  timelineFeed: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/feeds/timeline.rss' }) },
  listEvents: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/events' }) },
  streamEvents: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/events/stream' }) },
  newsSitemap: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/sitemaps/news.xml' }) },
  sitemapIndex: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/sitemaps/index.xml' }) },
  articlesSitemap: { access: 'public', allowed: 200, call: async () => ({ method: 'GET', url: '/v1/sitemaps/articles-1.xml' }) },
};

function expected(row: Row, role: Role): { status: number; code?: string } {
  if (role === 'revoked') return { status: 401, code: 'INVALID_API_KEY' };
  if (role === 'anonymous') {
    return row.access === 'public' ? { status: row.allowedAnonymous ?? row.allowed } : { status: 401, code: 'AUTH_REQUIRED' };
  }
  return RANK[role] >= RANK[row.access] ? { status: row.allowed } : { status: 403, code: 'FORBIDDEN' };
}

function assertRefusal(t: Test, response: LightMyRequestResponse, status: number, code: string) {
  t.equal(response.statusCode, status, `status ${status}`);
  t.equal(problemShapeError(response), null, 'problem+json with status and code');
  t.equal(json(response).code, code, `code ${code}`);
  if (status === 401) {
    // RFC 9110 §11.6.1: a 401 carries a challenge.
    t.match(response.headers['www-authenticate'], /^Bearer/, 'WWW-Authenticate names the scheme');
  }
}

t.test('the table covers every documented operation, and nothing else', async (t) => {
  const documented = operations.map((op) => op.operationId).sort();
  t.same(Object.keys(TABLE).sort(), documented, 'one row per operationId in GET /openapi.json');
  for (const op of operations) {
    const row = TABLE[op.operationId];
    if (!row) continue;
    t.equal(op.isPublic, row.access === 'public', `${op.label}: the document's security matches (${row.access})`);
  }
});

for (const op of operations) {
  t.test(`${op.label} (${op.operationId})`, async (t) => {
    const row = TABLE[op.operationId];
    if (!row) {
      t.fail(`no access row for ${op.operationId}: add it to TABLE with the least role that may call it`);
      return;
    }
    for (const role of ROLES) {
      const call = await row.call();
      t.equal(call.method, op.method, `the row calls ${op.method}`);
      const want = expected(row, role);
      const before = await tableState(database.db);
      const response = await injectOrListen(app, {
        method: call.method,
        url: call.url,
        headers: { ...call.headers, ...callers[role] },
        ...(call.payload ? { payload: call.payload } : {}),
      });
      const after = await tableState(database.db);
      await t.test(`as ${role}: ${want.status}${want.code ? ` ${want.code}` : ''}`, async (t) => {
        if (want.code) {
          assertRefusal(t, response, want.status, want.code);
          t.equal(stateDifference(before, after), null, 'nothing was written');
        } else {
          t.equal(response.statusCode, want.status, `status ${want.status}`);
          if (want.status >= 400) t.equal(problemShapeError(response), null, 'problem+json');
        }
      });
    }
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Never through any door.                                                                      */

t.test('drafts, scheduled, archived and deleted articles reach anonymous readers through no door', async (t) => {
  const editorKey = callers.editor;
  const tagId = (await made(await post('/v1/tags', { name: 'Doorway', slug: 'doorway' }))).id;
  const section = 'doorway-section';

  /** A hidden article: its own words, tagged, in the section, renamed once (an old slug redirects). */
  async function hiddenArticle(kind: string): Promise<Resource & { oldSlug: string; title: string }> {
    const title = `Hidden ${kind} quokka`;
    const created = await newDraft({
      title,
      slug: `quokka-${kind}-old`,
      lead: `The ${kind} quokka lead`,
      section,
      tagIds: [tagId],
      body: [{ type: 'paragraph', text: `The ${kind} quokka body` }],
    });
    const renamed = await made(
      await app.inject({
        method: 'PATCH',
        url: `/v1/articles/${created.id}`,
        headers: { ...fixtures, 'if-match': created.etag },
        payload: { slug: `quokka-${kind}` },
      }),
    );
    return { ...renamed, oldSlug: `quokka-${kind}-old`, title };
  }

  const hiddenDraft = await hiddenArticle('draft');
  t.equal((await post('/v1/timeline', { articleId: hiddenDraft.id })).statusCode, 201, "the draft's timeline entry");
  const scheduledDraft = await hiddenArticle('scheduled');
  const scheduled = await publish(scheduledDraft, { publishAt: new Date(Date.now() + 86_400_000).toISOString() });
  const archivedDraft = await hiddenArticle('archived');
  const archived = await made(await post(`/v1/articles/${archivedDraft.id}/archive`, undefined, { 'if-match': (await publish(archivedDraft)).etag }));
  const deletedDraft = await hiddenArticle('deleted');
  const deletedLive = await publish(deletedDraft);

  const hidden = [
    { ...hiddenDraft, kind: 'draft' },
    { ...scheduledDraft, ...scheduled, kind: 'scheduled' },
    { ...archivedDraft, ...archived, kind: 'archived' },
    { ...deletedDraft, ...deletedLive, kind: 'deleted' },
  ];

  // The one live article points at every hidden one: "Read also" and inline related blocks.
  const visibleDraft = await newDraft({
    title: 'Visible quokka story',
    slug: 'quokka-visible',
    lead: 'The visible quokka lead',
    section,
    tagIds: [tagId],
    relatedIds: hidden.map((article) => article.id),
    body: [
      { type: 'paragraph', text: 'The visible quokka body' },
      ...hidden.map((article) => ({ type: 'related', articleId: article.id })),
    ],
  });
  const visible = await publish(visibleDraft);
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/articles/${deletedLive.id}`, headers: { ...fixtures, 'if-match': deletedLive.etag } })).statusCode,
    204,
    'the deleted one is deleted',
  );
  t.equal(json(await app.inject({ url: `/v1/articles/${scheduled.id}`, headers: editorKey })).status, 'scheduled', 'scheduled for tomorrow');
  t.equal(json(await app.inject({ url: `/v1/articles/${archived.id}`, headers: editorKey })).status, 'archived');

  // Their timeline entries, straight from the table: a draft's or archived article's entry is
  // hidden from editors too, so no API read lists them all.
  const hiddenIds = hidden.map((article) => article.id);
  const entryRows = (await database.db.execute(
    sql`select id::text as id from timeline_entries where article_id::text in (${sql.join(hiddenIds.map((id) => sql`${id}`), sql`, `)})`,
  )) as unknown as { rows: { id: string }[] };
  const hiddenEntries = entryRows.rows.map((row) => row.id);
  t.ok(hiddenEntries.length >= 3, `${hiddenEntries.length} timeline entries of hidden articles (draft, scheduled, archived)`);

  const markers = hidden.flatMap((article) => [
    [article.id, `${article.kind} id`],
    [article.slug ?? '', `${article.kind} slug`],
    [article.oldSlug, `${article.kind} old slug`],
    [article.title, `${article.kind} title`],
    [`The ${article.kind} quokka`, `${article.kind} lead or body`],
  ]);
  markers.push(...hiddenEntries.map((id) => [id, 'a hidden timeline entry id']));

  async function noLeak(t: Test, url: string, expectVisible: string | null, headers: Record<string, string> = {}) {
    const response = await app.inject({ url, headers });
    t.equal(response.statusCode, 200, `${url}: 200`);
    const leaked = markers.filter(([marker]) => marker && response.body.includes(marker as string)).map(([, what]) => what);
    t.same(leaked, [], `${url}: shows nothing hidden`);
    if (expectVisible) t.ok(response.body.includes(expectVisible), `${url}: shows the live article (the door works)`);
    return response;
  }

  t.test('lists, search, tag and section filters', async (t) => {
    for (const query of ['limit=100', 'q=quokka', 'tag=doorway', `section=${section}`, 'status=published&limit=100', 'label=opinion']) {
      await noLeak(t, `/v1/articles?${query}`, query === 'label=opinion' ? null : visible.id);
    }
    for (const status of ['draft', 'scheduled', 'archived']) {
      const response = await app.inject({ url: `/v1/articles?status=${status}` });
      assertRefusal(t, response, 401, 'AUTH_REQUIRED');
    }
    const search = json<{ data: { id: string }[] }>(await app.inject({ url: '/v1/articles?q=quokka' }));
    t.same(search.data.map((item) => item.id), [visible.id], 'search finds the live article alone');
    const editorSearch = json<{ data: { id: string }[] }>(await app.inject({ url: '/v1/articles?q=quokka', headers: editorKey }));
    t.equal(editorSearch.data.length, 4, 'an editor finds the draft, scheduled and archived ones too (never the deleted one)');
  });

  t.test('by id and by slug, as JSON and as HTML', async (t) => {
    for (const article of hidden) {
      for (const url of [`/v1/articles/${article.id}`, `/v1/articles/${article.slug}`, `/v1/articles/${article.slug}?locale=en&format=html`]) {
        assertRefusal(t, await app.inject({ url }), 404, 'ARTICLE_NOT_FOUND');
      }
    }
    const preview = await app.inject({ url: `/v1/articles/${hiddenDraft.slug}`, headers: callers.reader });
    t.equal(preview.statusCode, 200, 'a reader key previews the draft by slug');
    const deleted = await app.inject({ url: `/v1/articles/${deletedLive.id}`, headers: editorKey });
    assertRefusal(t, deleted, 404, 'ARTICLE_NOT_FOUND');
  });

  t.test('old-slug redirects', async (t) => {
    for (const article of hidden) {
      const response = await app.inject({ url: `/v1/articles/${article.oldSlug}` });
      t.not(response.statusCode, 301, `${article.kind}: no redirect reveals the new slug`);
      assertRefusal(t, response, 404, 'ARTICLE_NOT_FOUND');
      t.notOk(response.headers.location, 'no Location');
    }
    const forReader = await app.inject({ url: `/v1/articles/${hiddenDraft.oldSlug}`, headers: callers.reader });
    t.equal(forReader.statusCode, 301, 'a reader key is redirected (the door works)');
    t.match(forReader.headers.location, `/v1/articles/${hiddenDraft.slug}`);
  });

  t.test('"Read also" and related blocks of a live article', async (t) => {
    for (const url of [`/v1/articles/${visible.id}`, '/v1/articles/quokka-visible?format=html']) {
      const response = await noLeak(t, url, 'The visible quokka body');
      const body = json<{ related: unknown[]; body: { type: string }[] }>(response);
      t.same(body.related, [], 'no "Read also" entries');
      t.same(body.body.map((block) => block.type), ['paragraph'], 'no related blocks');
    }
    const forEditor = json<{ related: unknown[] }>(await app.inject({ url: `/v1/articles/${visible.id}`, headers: editorKey }));
    t.equal(forEditor.related.length, 3, 'an editor sees the three that still exist (the door works)');
  });

  t.test('timeline, grouped by day, by tag, and each entry', async (t) => {
    for (const query of ['limit=100', 'groupBy=day&limit=100', 'groupBy=day&tz=UTC', 'tag=doorway']) {
      await noLeak(t, `/v1/timeline?${query}`, visible.id);
    }
    for (const id of hiddenEntries) assertRefusal(t, await app.inject({ url: `/v1/timeline/${id}` }), 404, 'TIMELINE_ENTRY_NOT_FOUND');
  });

  t.test('feeds: all, per tag, per section, and the timeline', async (t) => {
    for (const format of ['rss', 'atom', 'json']) {
      for (const query of ['', '?tag=doorway', `?section=${section}`]) {
        await noLeak(t, `/v1/feeds/articles.${format}${query}`, 'Visible quokka story');
      }
      await noLeak(t, `/v1/feeds/timeline.${format}`, 'Visible quokka story');
    }
  });

  t.test('revisions need an editor key', async (t) => {
    for (const article of [...hidden, visible]) {
      assertRefusal(t, await app.inject({ url: `/v1/articles/${article.id}/revisions` }), 401, 'AUTH_REQUIRED');
      assertRefusal(t, await app.inject({ url: `/v1/articles/${article.id}/revisions/1` }), 401, 'AUTH_REQUIRED');
      assertRefusal(t, await app.inject({ url: `/v1/articles/${article.id}/revisions`, headers: callers.reader }), 403, 'FORBIDDEN');
    }
    const kept = await app.inject({ url: `/v1/articles/${deletedLive.id}/revisions`, headers: editorKey });
    t.equal(kept.statusCode, 200, "a deleted article's revisions stay for editors");
  });

  t.test("the tag's articleCount counts what the caller may see", async (t) => {
    t.equal(json(await noLeak(t, '/v1/tags/doorway', null)).articleCount, 1, 'anonymous: the live one');
    const listed = json<{ data: { slug: string; articleCount: number }[] }>(await noLeak(t, '/v1/tags?q=door', null));
    t.same(listed.data.map((item) => [item.slug, item.articleCount]), [['doorway', 1]]);
    t.equal(json(await app.inject({ url: '/v1/tags/doorway', headers: callers.reader })).articleCount, 4, 'a key: draft, scheduled, archived and live; never the deleted one');
  });
});

t.test('keys cannot be recovered from the database', async (t) => {
  const createdOverHttp = [];
  for (const role of ['reader', 'editor', 'admin']) {
    const response = await app.inject({ method: 'POST', url: '/v1/keys', headers: keyAdmin, payload: { name: `stored ${role}`, role } });
    t.equal(response.statusCode, 201);
    createdOverHttp.push(json<{ key: string }>(response).key);
  }
  const all = [...createdOverHttp, keyAdminKey.key, fixtureKey.key, doomed.key];
  const secrets = all.map((key) => {
    const match = /^lede_[a-z0-9]+_([A-Za-z0-9_-]{20,})$/.exec(key);
    t.ok(match, 'the key has a secret part');
    return match?.[1] ?? key;
  });

  const result = (await database.db.execute(sql`select * from api_keys`)) as unknown as { rows: Record<string, unknown>[] };
  t.ok(result.rows.length >= all.length, `${result.rows.length} stored keys`);
  const stored = result.rows.flatMap((row) => Object.values(row).map((value) => (value instanceof Date ? value.toISOString() : String(value))));
  for (const [index, key] of all.entries()) {
    const secret = secrets[index] ?? key;
    t.notOk(stored.some((value) => value.includes(key)), 'no column holds the key');
    t.notOk(stored.some((value) => value.includes(secret)), 'no column holds its secret');
    t.notOk(stored.some((value) => value.length >= 12 && secret.includes(value)), 'no column holds a piece of the secret');
  }

  const listed = await app.inject({ url: '/v1/keys?limit=100', headers: keyAdmin });
  for (const [index, key] of all.entries()) {
    t.notOk(listed.body.includes(secrets[index] ?? key), 'GET /v1/keys shows no secret');
  }
});
