import type { RetryPolicy } from '../shared/job-model.js';

/** Exponential backoff between failed runs: initial, 2×, 4×, … capped at the policy's maximum. */
export function retryDelayMs(policy: RetryPolicy, fails: number): number {
  const exponent = Math.max(0, fails - 1);
  const delay = policy.initialIntervalMs * 2 ** Math.min(exponent, 30);
  return Math.min(delay, policy.maxIntervalMs);
}
