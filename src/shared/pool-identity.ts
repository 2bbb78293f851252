/**
 * A worker's Temporal identity carries what `/api/v1/stats` reports about its pool, so the API can
 * describe pools from the task queue's pollers alone, with no registry of its own.
 * Form: `jobservice/<poolId>/<startedAt>/<concurrency>@<host>`.
 */
export interface PoolIdentity {
  poolId: string;
  /** Unix seconds. */
  startedAt: number;
  concurrency: number;
  host: string;
}

const PATTERN = /^jobservice\/([0-9a-f]{12})\/(\d+)\/(\d+)@(.+)$/;

export function encodePoolIdentity(pool: PoolIdentity): string {
  return `jobservice/${pool.poolId}/${pool.startedAt}/${pool.concurrency}@${pool.host}`;
}

export function decodePoolIdentity(identity: string): PoolIdentity | undefined {
  const match = PATTERN.exec(identity);
  if (!match) return undefined;
  const [, poolId, startedAt, concurrency, host] = match;
  return { poolId: poolId!, startedAt: Number(startedAt), concurrency: Number(concurrency), host: host! };
}
