import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookDeliveryResult {
  events: number;
  /** Seconds the writes took (10 at a time). */
  writeSeconds: number;
  /** Seconds from the last write's answer to the last delivery received. */
  afterLastWriteSeconds: number;
  /** Seconds from the first write to the last delivery received. */
  totalSeconds: number;
  received: number;
}

/**
 * The delivery target: `count` writes, each emitting one event, reach a webhook receiver
 * on loopback. The receiver answers 204 at once; deliveries are counted by webhook-id.
 */
export async function measureWebhookDelivery(ledeUrl: string, keys: { admin: string; editor: string }, count = 1_000): Promise<WebhookDeliveryResult> {
  const seen = new Set<string>();
  let lastReceivedAt = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.add(String(request.headers['webhook-id']));
      lastReceivedAt = performance.now();
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const json = { 'content-type': 'application/json' };
  const created = await fetch(`${ledeUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.admin}`, ...json },
    body: JSON.stringify({ url: target, events: ['tag.created'] }),
  });
  if (created.status !== 201) throw new Error(`webhook not created: ${created.status} ${await created.text()}`);
  const hook = (await created.json()) as { id: string };
  try {
    const run = Math.random().toString(36).slice(2, 8);
    const started = performance.now();
    let next = 0;
    const writer = async () => {
      while (next < count) {
        const index = next++;
        const response = await fetch(`${ledeUrl}/v1/tags`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.editor}`, ...json },
          body: JSON.stringify({ name: `Delivery ${run} ${index}` }),
        });
        if (response.status !== 201) throw new Error(`tag write: ${response.status}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 10 }, writer));
    const written = performance.now();
    const deadline = written + 60_000;
    while (seen.size < count && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const round = (ms: number) => Math.round(ms / 10) / 100;
    return {
      events: count,
      writeSeconds: round(written - started),
      afterLastWriteSeconds: round(Math.max(0, lastReceivedAt - written)),
      totalSeconds: round(lastReceivedAt - started),
      received: seen.size,
    };
  } finally {
    await fetch(`${ledeUrl}/v1/webhooks/${hook.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${keys.admin}` } });
    receiver.close();
  }
}
