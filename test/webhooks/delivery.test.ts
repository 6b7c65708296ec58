import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { json } from '../helper.js';
import { appendEvent, createWebhook, deliveries, eventually, receiver, webhookApp } from './webhook-helper.js';

// Retries after ~100 ms, doubling; a short time limit so the timeout case is quick.
const w = await webhookApp(t, { limits: { timeoutMs: 1_000 } });

t.test('an event is delivered within seconds, signed so that standardwebhooks verifies it', async (t) => {
  const target = await receiver(t);
  await appendEvent(w.database, 'tag.created'); // before the webhook: never sent to it
  const hook = await createWebhook(w, { url: target.url, events: ['article.*'] });
  await appendEvent(w.database, 'tag.created'); // not a matching type
  const started = Date.now();
  const eventId = await appendEvent(w.database, 'article.published');
  const request = await eventually('the delivery', async () => target.received[0]);
  t.ok(Date.now() - started < 3_000, `delivered in ${Date.now() - started} ms`);
  t.equal(target.received.length, 1, 'only the matching event, none from before the webhook');
  t.equal(request.headers['webhook-id'], String(eventId), 'webhook-id is the event id');
  t.match(request.headers['webhook-timestamp'], /^\d{10}$/, 'unix seconds');
  t.equal(request.headers['content-type'], 'application/json');
  const payload = new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>) as { type: string; timestamp: string; data: { id: string } };
  t.equal(payload.type, 'article.published');
  t.match(payload.timestamp, /^\d{4}-\d{2}-\d{2}T/);
  t.ok(payload.data.id, 'data is the event data');
  t.throws(() => new Webhook(hook.secret).verify(`${request.body} `, request.headers as Record<string, string>), 'a changed body does not verify');

  const [delivery] = await eventually('the recorded success', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.status === 'succeeded' ? listed : null;
  });
  t.match(delivery, { eventId: String(eventId), eventType: 'article.published', status: 'succeeded', nextAttemptAt: null });
  t.equal(delivery?.attempts.length, 1);
  t.equal(delivery?.attempts[0]?.responseStatus, 204);
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('after a rotation both secrets sign, each verifying on its own', async (t) => {
  const target = await receiver(t);
  const hook = await createWebhook(w, { url: target.url, events: ['tag.*'] });
  const rotated = json<{ secret: string }>(await w.app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: w.admin, payload: { rotateSecret: true } }));
  await appendEvent(w.database, 'tag.updated');
  const request = await eventually('the delivery', async () => target.received[0]);
  const signatures = String(request.headers['webhook-signature']).split(' ');
  t.equal(signatures.length, 2, 'two signatures');
  t.ok(signatures.every((signature) => signature.startsWith('v1,')));
  const headers = request.headers as Record<string, string>;
  t.doesNotThrow(() => new Webhook(rotated.secret).verify(request.body, headers), 'the new secret verifies');
  t.doesNotThrow(() => new Webhook(hook.secret).verify(request.body, headers), 'the old secret verifies');
  for (const signature of signatures) {
    const alone = { ...headers, 'webhook-signature': signature };
    const verifiers = [rotated.secret, hook.secret].filter((secret) => {
      try {
        new Webhook(secret).verify(request.body, alone);
        return true;
      } catch {
        return false;
      }
    });
    t.equal(verifiers.length, 1, 'each signature is one secret’s');
  }
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('500 twice: retried with the same webhook-id and body, then success; every attempt listed', async (t) => {
  const target = await receiver(t, (_request, index) => ({ status: index < 2 ? 500 : 200, body: index < 2 ? 'down' : 'ok' }));
  const hook = await createWebhook(w, { url: target.url, events: ['timeline.*'] });
  const eventId = await appendEvent(w.database, 'timeline.entry.created');
  const [delivery] = await eventually('success after retries', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.status === 'succeeded' ? listed : null;
  });
  t.equal(target.received.length, 3, 'three requests');
  t.same(new Set(target.received.map((request) => request.headers['webhook-id'])), new Set([String(eventId)]), 'one webhook-id');
  t.same(new Set(target.received.map((request) => request.body)).size, 1, 'one body');
  t.same(delivery?.attempts.map((attempt) => attempt.responseStatus), [500, 500, 200]);
  t.same(delivery?.attempts.map((attempt) => attempt.error), ['The receiver answered 500', 'The receiver answered 500', null]);
  t.equal(delivery?.attempts[0]?.responseExcerpt, 'down');
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('a redirect is not followed: a failed attempt', async (t) => {
  const elsewhere = await receiver(t);
  const target = await receiver(t, () => ({ status: 302, headers: { location: elsewhere.url } }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.deleted'] });
  await appendEvent(w.database, 'tag.deleted');
  const [delivery] = await eventually('the first attempt', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.attempts.length ? listed : null;
  });
  t.equal(delivery?.attempts[0]?.responseStatus, 302);
  t.equal(delivery?.status, 'pending', 'to be retried');
  t.ok(delivery?.nextAttemptAt, 'with its next try');
  t.equal(elsewhere.received.length, 0, 'the redirect target got nothing');
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('an answer larger than 64 KB is cut', async (t) => {
  const target = await receiver(t, () => ({ status: 200, body: Buffer.alloc(1024 * 1024, 'x') }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.created'] });
  await appendEvent(w.database, 'tag.created');
  const [delivery] = await eventually('success', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.status === 'succeeded' ? listed : null;
  });
  t.equal(delivery?.attempts[0]?.responseTruncated, true, 'marked as cut');
  t.equal(delivery?.attempts[0]?.responseExcerpt?.length, 1024, 'a short excerpt kept');
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('no answer within the time limit is a failed attempt', async (t) => {
  const target = await receiver(t, () => ({ status: 200, delayMs: 5_000 }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.updated'] });
  await appendEvent(w.database, 'tag.updated');
  const [delivery] = await eventually('the first attempt', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.attempts.length ? listed : null;
  });
  const attempt = delivery?.attempts[0];
  t.equal(attempt?.responseStatus, null);
  t.match(attempt?.error, /within 1000 ms/);
  t.ok((attempt?.durationMs ?? 0) >= 1_000 && (attempt?.durationMs ?? 0) < 2_000, `cut at ${attempt?.durationMs} ms`);
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});

t.test('a real write is delivered: creating a tag sends tag.created with the tag', async (t) => {
  const target = await receiver(t);
  const hook = await createWebhook(w, { url: target.url, events: ['tag.created'] });
  const { key } = await keysService(w.database.db).create({ role: 'editor', name: 'tag writer' });
  const created = await w.app.inject({ method: 'POST', url: '/v1/tags', headers: { authorization: `Bearer ${key}` }, payload: { name: 'Energy' } });
  t.equal(created.statusCode, 201);
  const request = await eventually('the delivery', async () => target.received[0]);
  const payload = new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>) as { type: string; data: { id: string } };
  t.equal(payload.type, 'tag.created');
  t.equal(payload.data.id, json<{ id: string }>(created).id, 'the created tag');
  await w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: w.admin });
});
