import t from 'tap';
import { json } from '../helper.js';
import { appendEvent, createWebhook, deliveries, eventually, receiver, webhookApp } from './webhook-helper.js';

t.test('retries run out: the delivery fails, is listed, and can be retried by hand', async (t) => {
  // Retries stop 600 ms after the event: three or four attempts at a 100 ms base.
  const w = await webhookApp(t, { limits: { retryWindowMs: 600 } });
  const target = await receiver(t, () => ({ status: 503 }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.*'] });
  const eventId = await appendEvent(w.database, 'tag.created');
  const [failed] = await eventually('the failed delivery', async () => {
    const listed = await deliveries(w, hook.id, '?status=failed');
    return listed.length > 0 ? listed : null;
  });
  t.equal(failed?.eventId, String(eventId));
  t.equal(failed?.nextAttemptAt, null, 'no next try');
  t.ok((failed?.attempts.length ?? 0) >= 2, `${failed?.attempts.length} attempts listed`);
  t.ok(failed?.attempts.every((attempt) => attempt.responseStatus === 503));
  const attemptsBefore = target.received.length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.equal(target.received.length, attemptsBefore, 'no automatic attempt after failing');

  target.answerWith(() => ({ status: 200 }));
  const retried = await w.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/${failed?.id}/retry`, headers: w.admin });
  t.equal(retried.statusCode, 202);
  t.equal(json(retried).status, 'pending');
  const [succeeded] = await eventually('the retried delivery', async () => {
    const listed = await deliveries(w, hook.id);
    return listed[0]?.status === 'succeeded' ? listed : null;
  });
  t.equal(succeeded?.attempts.length, (failed?.attempts.length ?? 0) + 1, 'one more attempt');
  t.equal(target.received.at(-1)?.headers['webhook-id'], String(eventId), 'the same webhook-id');

  const unknown = await w.app.inject({
    method: 'POST',
    url: `/v1/webhooks/${hook.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`,
    headers: w.admin,
  });
  t.equal(unknown.statusCode, 404);
  t.equal(json(unknown).code, 'WEBHOOK_DELIVERY_NOT_FOUND');
});

t.test('a hand retry that fails again fails at once', async (t) => {
  const w = await webhookApp(t, { limits: { retryWindowMs: 150 } });
  const target = await receiver(t, () => ({ status: 500 }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.*'] });
  await appendEvent(w.database, 'tag.created');
  const [failed] = await eventually('the failed delivery', async () => {
    const listed = await deliveries(w, hook.id, '?status=failed');
    return listed.length > 0 ? listed : null;
  });
  await w.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/${failed?.id}/retry`, headers: w.admin });
  const [again] = await eventually('the failed retry', async () => {
    const listed = await deliveries(w, hook.id, '?status=failed');
    return listed[0] && listed[0].attempts.length > (failed?.attempts.length ?? 0) ? listed : null;
  });
  t.equal(again?.attempts.length, (failed?.attempts.length ?? 0) + 1, 'one attempt, no new schedule');
});

t.test('a webhook failing for too long disables itself and says why; enabling it starts afresh', async (t) => {
  const w = await webhookApp(t, { limits: { disableAfterMs: 200 } });
  const target = await receiver(t, () => ({ status: 500 }));
  const hook = await createWebhook(w, { url: target.url, events: ['tag.*'] });
  await appendEvent(w.database, 'tag.created');
  const disabled = await eventually('the webhook to disable itself', async () => {
    const read = json<{ enabled: boolean; disabledReason: string | null }>(await w.app.inject({ url: `/v1/webhooks/${hook.id}`, headers: w.admin }));
    return read.enabled ? null : read;
  });
  t.match(disabled.disabledReason, /failed from \d{4}-\d{2}-\d{2}T.*re-enable/);
  const sent = target.received.length;
  await appendEvent(w.database, 'tag.updated'); // while off: not delivered, even once it is on again
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(target.received.length, sent, 'nothing is sent while it is off');

  target.answerWith(() => ({ status: 204 }));
  const enabled = await w.app.inject({ method: 'PATCH', url: `/v1/webhooks/${hook.id}`, headers: w.admin, payload: { enabled: true } });
  t.match(json(enabled), { enabled: true, disabledReason: null });
  const next = await appendEvent(w.database, 'tag.deleted');
  await eventually('delivery after re-enabling', async () => target.received.find((request) => request.headers['webhook-id'] === String(next)));
  const ids = new Set(target.received.map((request) => request.headers['webhook-id']));
  t.equal(ids.size, 2, 'the event from while it was off was not sent; the pending one was retried');
});

t.test('metrics: attempts by result, queue depth, lag', async (t) => {
  const w = await webhookApp(t);
  const target = await receiver(t);
  const hook = await createWebhook(w, { url: target.url, events: ['*'] });
  await appendEvent(w.database, 'timeline.entry.deleted');
  await eventually('a delivery', async () => (await deliveries(w, hook.id))[0]?.status === 'succeeded');
  const metrics = (await w.app.inject({ url: '/metrics' })).body;
  t.match(metrics, /^lede_webhook_deliveries_total\{result="delivered"\} 1$/m);
  t.match(metrics, /^lede_webhook_queue_depth 0$/m);
  t.match(metrics, /^lede_webhook_delivery_lag_seconds_count 1$/m);
});
