import t from 'tap';
import { json } from '../helper.js';
import { createWebhook, webhookApp } from './webhook-helper.js';

// Creation checks only written-out addresses, so public-looking URLs need no network here.
const w = await webhookApp(t, { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'false' } });
const { app, admin } = w;
const SECRET_SHAPE = /^whsec_[A-Za-z0-9+/]{43}=$/;

t.test('create answers the secret once, with Location; reads never show it', async (t) => {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: admin,
    payload: { url: 'https://hooks.example/lede', events: ['article.*', 'tag.created'], description: 'CDN purge' },
  });
  t.equal(response.statusCode, 201);
  const created = json<{ id: string; secret: string; enabled: boolean; events: string[]; disabledReason: null }>(response);
  t.match(created.secret, SECRET_SHAPE, 'a Standard Webhooks secret');
  t.equal(response.headers.location, `/v1/webhooks/${created.id}`);
  t.equal(response.headers['cache-control'], 'no-store');
  t.same(created.events, ['article.*', 'tag.created']);
  t.equal(created.enabled, true);

  const one = await app.inject({ url: `/v1/webhooks/${created.id}`, headers: admin });
  t.equal(one.statusCode, 200);
  t.notOk(one.body.includes(created.secret.slice(6)), 'GET shows no secret');
  t.notOk('secret' in json(one));
  const list = await app.inject({ url: '/v1/webhooks', headers: admin });
  t.ok(json<{ data: { id: string }[] }>(list).data.some((hook) => hook.id === created.id), 'listed');
  t.notOk(list.body.includes(created.secret.slice(6)), 'the list shows no secret');
});

t.test('bad input is refused', async (t) => {
  const cases: [string, object, number, string][] = [
    ['not a URL', { url: 'not a url', events: ['*'] }, 400, 'VALIDATION_FAILED'],
    ['not http', { url: 'ftp://hooks.example/x', events: ['*'] }, 400, 'VALIDATION_FAILED'],
    ['credentials in the URL', { url: 'https://user:pw@hooks.example/x', events: ['*'] }, 400, 'VALIDATION_FAILED'],
    ['unknown event pattern', { url: 'https://hooks.example/x', events: ['article.exploded'] }, 400, 'VALIDATION_FAILED'],
    ['malformed pattern', { url: 'https://hooks.example/x', events: ['Article!'] }, 400, 'VALIDATION_FAILED'],
    ['no events', { url: 'https://hooks.example/x', events: [] }, 400, 'VALIDATION_FAILED'],
    ['unknown field', { url: 'https://hooks.example/x', events: ['*'], secret: 'whsec_mine' }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [label, payload, status, code] of cases) {
    const response = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload });
    t.equal(response.statusCode, status, `${label}: ${status}`);
    t.equal(json(response).code, code, `${label}: ${code}`);
  }
  const unknownPattern = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: 'https://hooks.example/x', events: ['article.exploded'] } });
  t.match(json<{ errors: { path: string }[] }>(unknownPattern).errors[0]?.path, /^body\.events\.0/);
});

t.test('literal private, loopback, link-local and metadata addresses are refused at creation', async (t) => {
  for (const url of ['http://127.0.0.1/hook', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]/hook', 'http://[::ffff:127.0.0.1]/x', 'http://0.0.0.0/x', 'http://192.168.1.20:8080/x']) {
    const response = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url, events: ['*'] } });
    t.equal(response.statusCode, 422, `${url}: 422`);
    t.equal(json(response).code, 'WEBHOOK_TARGET_FORBIDDEN');
  }
  const hook = await createWebhook(w, { url: 'https://hooks.example/a', events: ['*'] });
  const moved = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin, payload: { url: 'http://10.1.2.3/x' } });
  t.equal(moved.statusCode, 422, 'nor can a webhook be moved there');
  // A name is checked when it is resolved, at delivery (webhooks-ssrf.test.ts).
  const named = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: 'http://localhost:9/x', events: ['*'] } });
  t.equal(named.statusCode, 201, 'localhost is accepted at creation');
  const publicAddress = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: 'http://93.184.215.14/x', events: ['*'] } });
  t.equal(publicAddress.statusCode, 201, 'a public address is accepted');
});

t.test('update, disable and delete', async (t) => {
  const hook = await createWebhook(w, { url: 'https://hooks.example/b', events: ['tag.*'] });
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/webhooks/${hook.id}`,
    headers: admin,
    payload: { events: ['timeline.*'], description: 'Timeline only', enabled: false },
  });
  t.equal(patched.statusCode, 200);
  t.match(json(patched), { events: ['timeline.*'], description: 'Timeline only', enabled: false, disabledReason: null });
  t.notOk('secret' in json(patched), 'no secret without a rotation');
  const cleared = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin, payload: { description: null, enabled: true } });
  t.match(json(cleared), { description: null, enabled: true });

  t.equal((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin })).statusCode, 204);
  const gone = await app.inject({ url: `/v1/webhooks/${hook.id}`, headers: admin });
  t.equal(gone.statusCode, 404);
  t.equal(json(gone).code, 'WEBHOOK_NOT_FOUND');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: admin })).statusCode, 404, 'a repeat is 404');
  const deliveries = await app.inject({ url: `/v1/webhooks/${hook.id}/deliveries`, headers: admin });
  t.equal(deliveries.statusCode, 404);
});

t.test('rotation answers a new secret once and keeps the old one signing for a while', async (t) => {
  const hook = await createWebhook(w, { url: 'https://hooks.example/c', events: ['*'] });
  const rotated = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin, payload: { rotateSecret: true } });
  t.equal(rotated.statusCode, 200);
  const body = json<{ secret: string; previousSecretExpiresAt: string }>(rotated);
  t.match(body.secret, SECRET_SHAPE);
  t.not(body.secret, hook.secret, 'a new secret');
  t.equal(rotated.headers['cache-control'], 'no-store');
  const hoursLeft = (Date.parse(body.previousSecretExpiresAt) - Date.now()) / 3_600_000;
  t.ok(hoursLeft > 23.9 && hoursLeft <= 24, `the previous secret signs for 24 hours (${hoursLeft.toFixed(3)})`);
  const read = await app.inject({ url: `/v1/webhooks/${hook.id}`, headers: admin });
  t.notOk(read.body.includes(body.secret.slice(6)) || read.body.includes(hook.secret.slice(6)), 'neither secret is shown again');
  const refused = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: admin, payload: { rotateSecret: false } });
  t.equal(refused.statusCode, 400, 'rotateSecret takes only true');
});

t.test('only admins manage webhooks', async (t) => {
  const { key } = await (await import('../../src/modules/keys/keys.service.js')).keysService(w.database.db).create({ role: 'editor', name: 'editor' });
  const response = await app.inject({ url: '/v1/webhooks', headers: { authorization: `Bearer ${key}` } });
  t.equal(response.statusCode, 403);
  t.equal((await app.inject({ url: '/v1/webhooks' })).statusCode, 401);
});
