import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';

/**
 * docs/queues.md: a pause holds back jobs that have not started, and running ones finish. A
 * fan-out job hands its history over to its next run (continue-as-new) between waves of targets:
 * that run goes on with the job, it does not get in line again behind the pause.
 */
describe('a pause of a fan-out type while one of its jobs runs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ job: { fan_out_history_events: 150 } }) });
  });
  after(async () => {
    await h.close();
  });

  it('lets the running job finish, across its hand-overs', async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 30, pool_size: 3, hold_ms: 200 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    assert.equal((await h.request('PUT', '/api/v1/queues/TEST_BATCH', { action: 'pause' })).status, 200);
    try {
      const end = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
      assert.equal(end.status, 'Success', end.last_error);
      const { count } = await h.client.workflow.count(`WorkflowId = '${job.id}' AND ExecutionStatus = 'ContinuedAsNew'`);
      assert.ok(count >= 1, 'the job handed its history over while its type was paused');
    } finally {
      await h.request('PUT', '/api/v1/queues/TEST_BATCH', { action: 'resume' });
    }
  });
});
