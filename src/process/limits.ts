import { abortableSleep } from './abortable-sleep.js';

/** At most `limit` of `fn` at once over `items`; stops starting new ones once `signal` aborts. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/** Spaces calls at least 1/rps seconds apart across every caller of one limiter; rps ≤ 0 means no ceiling. */
export class RateLimiter {
  private nextAt = 0;
  constructor(private readonly perSecond: number) {}

  async take(signal?: AbortSignal): Promise<void> {
    if (this.perSecond <= 0) return;
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.perSecond;
    await abortableSleep(at - now, signal);
  }
}

/**
 * At most `limit` calls in flight across every caller of the returned function: nested loops of
 * reads (a repository's manifests, an index's children) share one budget, where nested mapLimit
 * calls would multiply theirs.
 */
export type Limited = <T>(fn: () => Promise<T>) => Promise<T>;

export function concurrencyLimit(limit: number): Limited {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, if any.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
