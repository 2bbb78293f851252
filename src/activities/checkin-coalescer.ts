import { nowSec } from '../shared/time.js';
export interface CheckInCoalescer {
  push(message: string): void;
  /** Send what is still held back and wait until every check-in went out. */
  flush(): Promise<void>;
}

/**
 * A chatty job must not flood its workflow's history: send the newest message at most once per
 * `minIntervalMs`, always send the last one, and keep them in order.
 */
export function createCheckInCoalescer(
  minIntervalMs: number,
  send: (message: string, at: number) => Promise<void>,
  onError: (err: unknown) => void,
): CheckInCoalescer {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let pending: { message: string; at: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const fire = () => {
    timer = undefined;
    const next = pending;
    pending = undefined;
    if (!next) return;
    lastSentAt = Date.now();
    chain = chain.then(() => send(next.message, next.at)).catch(onError);
  };

  return {
    push(message) {
      pending = { message, at: nowSec() };
      if (timer) return;
      const wait = lastSentAt + minIntervalMs - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        fire();
      }
      await chain;
    },
  };
}
