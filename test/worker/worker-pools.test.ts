import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkerPool } from '../../src/api/contract.js';
import { createServiceLogger } from '../../src/logs/service-logger.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { startWorker, type RunningWorker } from '../../src/worker/run-worker.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

describe('several worker pools on one task queue', () => {
  let h: Harness;
  let second: RunningWorker;
  before(async () => {
    h = await createHarness();
    const log = createServiceLogger(h.config.loggers, 'second');
    second = await startWorker(h.config, temporalTarget(h.config), h.client, testRegistry(), log);
  });
  after(async () => {
    await second.shutdown();
    await h.close();
  });

  it('shows each pool in /stats as Healthy, and both take jobs from the same queue', async () => {
    const pools = await waitFor(
      async () => ((await (await h.app.request('/api/v1/stats')).json()) as { worker_pools?: WorkerPool[] }).worker_pools ?? [],
      (list) => list.length === 2,
      { what: 'two worker pools' },
    );
    assert.notEqual(pools[0]!.worker_pool_id, pools[1]!.worker_pool_id);
    for (const pool of pools) {
      assert.equal(pool.status, 'Healthy');
      assert.ok(pool.started_at > 0 && pool.heartbeat_at >= pool.started_at - 1);
    }
    const jobs = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.submit({ name: 'DEMO', parameters: { image: 'demo-pools', step_ms: 0, hold_ms: 0 }, metadata: { kind: 'Generic' } }),
      ),
    );
    for (const job of jobs) await h.waitForStatus(job.id, ['Success']);
  });
});
