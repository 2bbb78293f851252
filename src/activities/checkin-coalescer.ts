import { nowSec } from '../shared/time.js';
export interface CheckInCoalescer {
  push(message: string): void;
  /** Send what is still held back and wait until every check-in went out. */
  flush(): Promise<void>;
}

/**
 * A chatty job must not flood its workflow's history: send the newest message at most once per
 * `minIntervalMs`, always send the last one, and keep them in order. One send at a time: while one
 * is out (a slow workflow answers late) only the newest message waits, so the sends still due when
 * the job returns are two at most, not one per interval of a long stall, which the run would wait
 * out past its heartbeat timeout (and Temporal would run the job again).
 */
export function createCheckInCoalescer(
  minIntervalMs: number,
  send: (message: string, at: number) => Promise<void>,
  onError: (err: unknown) => void,
): CheckInCoalescer {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  /** The newest message not sent yet; with no interval (coalescing off), every one in order. */
  const pending: { message: string; at: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const schedule = () => {
    if (timer || inFlight || pending.length === 0) return;
    const wait = lastSentAt + minIntervalMs - Date.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };

  const fire = () => {
    timer = undefined;
    if (inFlight) return;
    const next = pending.shift();
    if (!next) return;
    lastSentAt = Date.now();
    inFlight = send(next.message, next.at)
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  };

  return {
    push(message) {
      if (minIntervalMs > 0) pending.length = 0;
      pending.push({ message, at: nowSec() });
      schedule();
    },
    async flush() {
      for (;;) {
        clearTimeout(timer);
        timer = undefined;
        if (inFlight) await inFlight;
        else if (pending.length > 0) fire();
        else return;
      }
    },
  };
}
