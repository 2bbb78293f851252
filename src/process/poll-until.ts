export interface PollOptions {
  timeoutMs: number;
  /** @defaultValue 500 */
  intervalMs?: number;
  /** The error message when the deadline passes. */
  timeoutMessage: () => string;
  /** Called before each try; throws to give up early (a process it waits for has died). */
  failFast?: () => void;
}

/** Tries `check` until it answers true or the deadline passes: start-up waits on real processes. */
export async function pollUntil(check: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.failFast?.();
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(options.timeoutMessage());
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
