import { setMaxListeners } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/database.js';
import { nextBackoffMs } from './backoff.js';
import { type ClaimedDelivery, claimDue, recordAttempt, releaseClaim } from './delivery-queue.js';
import { fanOut } from './fan-out.js';
import { sendDelivery } from './send.js';
import { signDelivery } from './webhook-secret.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { type FilteringAgents, filteringAgents } from './webhook-target.js';

/** How deliveries are sent and retried. Defaults are the contract (docs/webhooks.md); tests shrink them. */
export interface DeliveryLimits {
  /** The first retry waits about this long; each next one at least twice as long (WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** Automatic retries stop this long after the event, and the delivery is failed. */
  retryWindowMs: number;
  /** A webhook whose every attempt failed for this long is disabled. */
  disableAfterMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
  /** While webhooks exist: how often to look for new events and due retries without being told. */
  pollMs: number;
  /** With no enabled webhook: how often to look anyway (creating one wakes every process at once). */
  idlePollMs: number;
  /** Deliveries in flight per process at most. */
  concurrency: number;
  allowPrivateTargets: boolean;
}

const HOUR_MS = 3_600_000;

export const DEFAULT_DELIVERY_LIMITS: Omit<DeliveryLimits, 'retryBaseMs' | 'allowPrivateTargets'> = {
  retryWindowMs: 24 * HOUR_MS,
  disableAfterMs: 72 * HOUR_MS,
  timeoutMs: 10_000,
  maxResponseBytes: 64 * 1024,
  pollMs: 1_000,
  idlePollMs: 60_000,
  concurrency: 16,
};

/** Room past the time limit for recording the attempt before another process may take the delivery. */
const LEASE_MARGIN_MS = 30_000;

/** The secrets that sign a delivery now: the current one, and the previous one during its grace period. */
function signingSecrets(claim: ClaimedDelivery, now: Date): string[] {
  const previous = claim.previousSecret && claim.previousSecretExpiresAt && claim.previousSecretExpiresAt > now ? [claim.previousSecret] : [];
  return [claim.secret, ...previous];
}

/**
 * Follows the event log for every enabled webhook and sends what is due: one pass fans new events
 * out into deliveries, then claims due deliveries and sends them concurrently. Passes run on a
 * timer, and at once when `wake` is called (a write announced in any process). At least once:
 * a delivery is done only when its success is recorded.
 */
export function webhookWorker(db: Database, limits: DeliveryLimits, log: FastifyBaseLogger, metrics: WebhookMetrics) {
  const agents: FilteringAgents = filteringAgents(limits.allowPrivateTargets);
  const stopping = new AbortController();
  // Every send in flight listens for the stop (and lets go when done): up to `concurrency` at once.
  setMaxListeners(limits.concurrency + 1, stopping.signal);
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let following = true;

  async function deliver(claim: ClaimedDelivery): Promise<void> {
    const now = new Date();
    const headers = signDelivery(String(claim.eventId), claim.body, signingSecrets(claim, now), now);
    const outcome = await sendDelivery(new URL(claim.url), claim.body, { ...headers }, { ...limits, agents, signal: stopping.signal });
    if (stopping.signal.aborted && !outcome.ok) {
      await releaseClaim(db, claim);
      return;
    }
    const result = await recordAttempt(db, claim, outcome, {
      nextBackoffMs: nextBackoffMs(claim.backoffMs, limits.retryBaseMs),
      disableAfterMs: limits.disableAfterMs,
    });
    metrics.attempted(result, claim.eventOccurredAt);
    if (!outcome.ok) log.info({ webhookId: claim.webhookId, deliveryId: claim.id, result, error: outcome.error }, 'webhook delivery attempt failed');
  }

  function track(claim: ClaimedDelivery): void {
    const sending = deliver(claim)
      .catch((error: unknown) => log.error({ err: error, deliveryId: claim.id }, 'webhook delivery could not be recorded'))
      .finally(() => {
        inFlight.delete(sending);
        // A free slot: more may be due.
        if (!stopping.signal.aborted) wake();
      });
    inFlight.add(sending);
  }

  async function pass(): Promise<void> {
    const fanned = await fanOut(db, limits.retryWindowMs);
    following = fanned.webhooks > 0;
    if (!following || stopping.signal.aborted) return;
    const claims = await claimDue(db, limits.concurrency - inFlight.size, limits.timeoutMs + LEASE_MARGIN_MS);
    for (const claim of claims) track(claim);
  }

  function schedule(delayMs: number): void {
    if (stopping.signal.aborted) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(wake, delayMs);
    timer.unref();
  }

  /** Runs a pass now, or right after the one running. */
  function wake(): void {
    if (stopping.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error: unknown) => log.warn({ err: error }, 'webhook worker pass failed; retrying on the next one'))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          wake();
        } else {
          schedule(following ? limits.pollMs : limits.idlePollMs);
        }
      });
  }

  return {
    /** Runs the first pass and keeps going. */
    async start(): Promise<void> {
      wake();
      await running;
    },
    wake,
    /** Whether any enabled webhook was found on the last pass: content writes matter only then. */
    get following() {
      return following;
    },
    /** Stops passes and cuts sends short (their deliveries go back unsent, to be sent again). */
    async stop(): Promise<void> {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await running;
      await Promise.all([...inFlight]);
      agents.destroy();
    },
  };
}
export type WebhookWorker = ReturnType<typeof webhookWorker>;
