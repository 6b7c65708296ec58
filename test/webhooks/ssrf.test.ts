import t from 'tap';
import { appendEvent, createWebhook, deliveries, eventually, receiver, webhookApp } from './webhook-helper.js';

t.test('a name that resolves to loopback is accepted, then refused at every delivery', async (t) => {
  const w = await webhookApp(t, { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'false' } });
  const target = await receiver(t);
  const hook = await createWebhook(w, { url: `http://localhost:${target.port}/hook`, events: ['tag.*'] });
  await appendEvent(w.database, 'tag.created');
  const [delivery] = await eventually('a refused attempt', async () => {
    const listed = await deliveries(w, hook.id);
    return (listed[0]?.attempts.length ?? 0) >= 2 ? listed : null;
  });
  for (const attempt of delivery?.attempts ?? []) {
    t.equal(attempt.responseStatus, null, 'no answer');
    t.match(attempt.error, /is not allowed\. Because, It is private IP address/, 'refused after resolution');
  }
  t.equal(target.received.length, 0, 'nothing reached the receiver');
});

t.test('with WEBHOOKS_ALLOW_PRIVATE_TARGETS the same target is delivered to', async (t) => {
  const w = await webhookApp(t, { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' } });
  const target = await receiver(t);
  await createWebhook(w, { url: `http://localhost:${target.port}/hook`, events: ['tag.*'] });
  await appendEvent(w.database, 'tag.created');
  await eventually('the delivery', async () => target.received[0]);
  t.pass('delivered');
});
