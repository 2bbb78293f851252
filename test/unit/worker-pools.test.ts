import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poolHealth, POOL_DEAD_AFTER_SECONDS } from '../../src/api/worker-pools.js';
import { decodePoolIdentity, encodePoolIdentity } from '../../src/shared/pool-identity.js';

describe('worker pools', () => {
  it('calls a pool Dead once it has not polled for longer than an idle long poll', () => {
    assert.equal(poolHealth(1000, 1000), 'Healthy');
    assert.equal(poolHealth(1000, 1000 + POOL_DEAD_AFTER_SECONDS), 'Healthy');
    assert.equal(poolHealth(1000, 1001 + POOL_DEAD_AFTER_SECONDS), 'Dead');
    assert.equal(poolHealth(0, 1000 + POOL_DEAD_AFTER_SECONDS), 'Dead');
  });

  it('round-trips a worker pool identity and rejects foreign identities', () => {
    const pool = { poolId: '0123456789ab', startedAt: 1700000000, concurrency: 10, host: 'node-1:42' };
    assert.deepEqual(decodePoolIdentity(encodePoolIdentity(pool)), pool);
    assert.equal(decodePoolIdentity('12345@host'), undefined);
    assert.equal(decodePoolIdentity('jobservice/xyz/1/1@h'), undefined);
  });
});
