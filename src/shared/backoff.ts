/**
 * Exponential backoff, shared by job retries and hook redeliveries: `initial × 2^(attempt−1)`,
 * capped at `max`. Pure: imported by workflow code.
 */
export function backoffMs(initialMs: number, maxMs: number, attempt: number): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 30);
  return Math.min(initialMs * 2 ** exponent, maxMs);
}

/** Delay before the next run of a job that has failed `fails` times. */
export function retryDelayMs(policy: { initialIntervalMs: number; maxIntervalMs: number }, fails: number): number {
  return backoffMs(policy.initialIntervalMs, policy.maxIntervalMs, fails);
}
