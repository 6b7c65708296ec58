/** A rendered anonymous response, replayed as it was first sent. */
export interface CachedResponse {
  /** As the route sent it: JSON text, or bytes a route encoded itself (feeds). */
  payload: string | Buffer;
  headers: Record<string, string>;
  /** The content keys it shows (its Surrogate-Key names); a write naming one of them evicts it. */
  dependsOn: string[];
  /** Local clock time after which it must not be served (the next scheduled publication). */
  expiresAt: number;
}

/**
 * Rendered anonymous responses, by request URL (without the query parameters its route does not
 * know, which change nothing in the answer: cache-plugin.ts), bounded in bytes with least-recently-used
 * eviction, and evicted precisely by content key.
 *
 * The race that matters: a read that missed, started before a write committed and finishes after
 * the write's invalidation would store the old version. Every invalidation therefore moves a
 * generation counter; a fill carries the generation it started at and is dropped if any
 * invalidation happened since (a write is rare next to reads: a few misses, never a stale entry).
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  /** Content key → URLs of the entries that show it. */
  private readonly dependents = new Map<string, Set<string>>();
  private bytes = 0;
  private currentGeneration = 0;

  constructor(private readonly maxBytes: number) {}

  /** Taken when a request starts; passed back to `store`. */
  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  lookup(url: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.entries.get(url);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.remove(url);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(url);
    this.entries.set(url, entry);
    return entry;
  }

  /** Keeps `entry` unless the content changed since `generation` was taken. Returns whether it was kept. */
  store(url: string, entry: CachedResponse, generation: number): boolean {
    if (generation !== this.currentGeneration) return false;
    const cost = entryCost(url, entry);
    if (cost > this.maxBytes / 8) return false; // one huge page must not empty the cache
    this.remove(url);
    this.entries.set(url, entry);
    this.bytes += cost;
    for (const key of entry.dependsOn) {
      let urls = this.dependents.get(key);
      if (!urls) this.dependents.set(key, (urls = new Set()));
      urls.add(url);
    }
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
    return true;
  }

  /** Evicts every entry showing any of `keys`; fills in flight are dropped. */
  invalidate(keys: Iterable<string>): void {
    this.currentGeneration += 1;
    for (const key of keys) {
      const urls = this.dependents.get(key);
      if (!urls) continue;
      for (const url of [...urls]) this.remove(url);
    }
  }

  clear(): void {
    this.currentGeneration += 1;
    this.entries.clear();
    this.dependents.clear();
    this.bytes = 0;
  }

  private remove(url: string): void {
    const entry = this.entries.get(url);
    if (!entry) return;
    this.entries.delete(url);
    this.bytes -= entryCost(url, entry);
    for (const key of entry.dependsOn) {
      const urls = this.dependents.get(key);
      urls?.delete(url);
      if (urls?.size === 0) this.dependents.delete(key);
    }
  }
}

/** Approximate memory held: the payload (bytes, or UTF-16 text) and URL, and a little per header. */
function entryCost(url: string, entry: CachedResponse): number {
  const payloadBytes = typeof entry.payload === 'string' ? 2 * entry.payload.length : entry.payload.byteLength;
  return payloadBytes + 2 * url.length + 64 * (Object.keys(entry.headers).length + entry.dependsOn.length);
}
