import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The seed README (Job Execution): a job that launches jobs has `executions` (their ids) and
 * `multiple_executions: true`. docs/writing-a-job.md: a sub job is "listed in the parent's
 * `sub_jobs` (and ... in `executions`, with `multiple_executions: true`)"; "GET /jobs/{id} asks the
 * running workflow for the rest". docs/architecture.md: a fan-out's `sub_jobs` and `executions`
 * "which GET /jobs/{id} shows". docs/batch-jobs.md: each target runs as a child job of the execution.
 */
describe('a running fan-out job’s sub jobs', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig() });
  });
  after(async () => {
    await h.close();
  });

  it('GET /jobs/{id} of a running fan-out job lists the targets it has started', async () => {
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 3, hold_ms: 15_000 }, metadata: { kind: 'Generic' } });
    const children = async () => {
      const ids: string[] = [];
      for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}' AND ExecutionStatus = 'Running'` }))
        ids.push(e.workflowId);
      return ids.sort();
    };
    const started = await waitFor(children, (ids) => ids.length === 3, { timeoutMs: 30_000, what: 'three targets running' });
    // The parent lists a target once its next workflow task has seen the target start; its memo
    // listed none (it keeps them out while the job runs) and GET did not ask the workflow.
    const stats = await waitFor(
      () => h.stats(job.id),
      (s) => (s.sub_jobs ?? []).length === 3,
      { timeoutMs: 10_000, what: 'GET listing the three targets' },
    );
    assert.equal(stats.status, 'Running');
    assert.deepEqual([...(stats.sub_jobs ?? [])].sort(), started, 'sub_jobs names the running targets');
    assert.deepEqual([...(stats.executions ?? [])].sort(), started, 'executions, as the seed README has it');
    assert.equal(stats.multiple_executions, true, 'multiple_executions while it has sub jobs');
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped'], 30_000);
  });
});
