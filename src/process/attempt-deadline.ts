/**
 * One abort signal for an outbound attempt: its deadline, and an outer signal (a cancelled
 * activity, a stopped job). A timer and one controller rather than `AbortSignal.any` over
 * `AbortSignal.timeout`, which was seen not to fire while a large answer filled the heap.
 * `clear()` once the attempt is over. `timeoutMs` undefined: no deadline.
 */
/** Node's longest timer: one of 2^31 ms or more fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function attemptDeadline(timeoutMs: number | undefined, outer?: AbortSignal) {
  const controller = new AbortController();
  let timedOut = false;
  // Without a deadline only the outer signal ends the attempt.
  // Past Node's longest timer a deadline is none.
  const timer =
    timeoutMs === undefined || timeoutMs > MAX_TIMER_MS
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
  const abort = () => controller.abort();
  if (outer?.aborted) abort();
  else outer?.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    /** Whether the deadline (not the outer signal) ended the attempt. */
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    },
  };
}
