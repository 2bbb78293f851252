import type { Client } from '@temporalio/client';

/** Every call to Temporal is bounded, so a down server yields a 503 rather than a hung request. */
export const RPC_DEADLINE_MS = 10_000;

export function boundedRpc<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + RPC_DEADLINE_MS, fn);
}
