/**
 * The wait before the next attempt: about `baseMs` first, then at least twice the previous wait,
 * up to two and a half times. The random part spreads the retries of many deliveries that failed
 * together (a receiver that was down) so they do not all return at the same moment.
 */
export function nextBackoffMs(previousMs: number | null, baseMs: number, random: () => number = Math.random): number {
  if (previousMs === null) return Math.round(baseMs * (1 + random() * 0.25));
  return Math.round(previousMs * (2 + random() * 0.5));
}
