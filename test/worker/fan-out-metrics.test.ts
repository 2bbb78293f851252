import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { samples } from '../helpers/prometheus-text.js';

const total = (m: Map<string, number>, type: string, status: string) =>
  m.get(`harbor_jobservice_task_total{type="${type}",status="${status}"}`) ?? 0;

/**
 * Harbor counts one task per run, by how the run ended (success, fail, stop). A fan-out (batch)
 * job's run is its plan and then its child jobs; its outcome is known only once they have ended.
 */
describe("harbor_jobservice_task_total for a fan-out (batch) job's runs", () => {
  let h: Harness;
  let url: string;
  before(async () => {
    const port = await freePort();
    h = await createHarness({
      config: testConfig({
        metric: { enabled: true, port, path: '/metrics' },
        // A short history budget, so 40 targets take several runs (continue-as-new), as batch-continue-as-new.test.ts.
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200, fan_out_history_events: 150 },
      }),
    });
    url = `http://127.0.0.1:${port}/metrics`;
  });
  after(async () => {
    await h.close();
  });
  const scrape = async () => samples(await (await fetch(url)).text());

  it('a batch job that ends in Error is counted as fail, not success', async () => {
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2, fail: ['t00'] }, metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 60_000)).status, 'Error');
    // Both targets (TEST_BATCH_TARGET) were counted: the worker has recorded what it will for this job.
    const m = await waitFor(scrape, (s) => total(s, 'TEST_BATCH_TARGET', 'fail') + total(s, 'TEST_BATCH_TARGET', 'success') === 2, {
      what: 'the targets counted',
    });
    assert.deepEqual(
      { success: total(m, 'TEST_BATCH', 'success'), fail: total(m, 'TEST_BATCH', 'fail') },
      { success: 0, fail: 1 },
      'the job is Error: one failed run',
    );
  });

  it('a batch job stopped while its targets run is counted as stop, not success', async () => {
    const before = await scrape();
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2, hold_ms: 60_000 }, metadata: { kind: 'Generic' } });
    const targets = await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const t of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}' AND ExecutionStatus = 'Running'` }))
          ids.push(t.workflowId);
        return ids;
      },
      (ids) => ids.length === 2,
      { what: 'both targets started', timeoutMs: 30_000 },
    );
    // Their runs started, not only their workflows: a target stopped before its run starts has no
    // run to count (a loaded machine once took longer than this test's stop to start one).
    for (const id of targets) await h.waitForStatus(id, ['Running'], 30_000);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 60_000)).status, 'Stopped');
    // A target's run is counted as its activity returns, which on a loaded machine (four test files
    // at once) came later than 20 s after the stop in one fresh-clone run.
    const m = await waitFor(scrape, (s) => total(s, 'TEST_BATCH_TARGET', 'stop') - total(before, 'TEST_BATCH_TARGET', 'stop') === 2, {
      what: 'the stopped targets counted',
      timeoutMs: 60_000,
    });
    assert.deepEqual(
      {
        success: total(m, 'TEST_BATCH', 'success') - total(before, 'TEST_BATCH', 'success'),
        stop: total(m, 'TEST_BATCH', 'stop') - total(before, 'TEST_BATCH', 'stop'),
      },
      { success: 0, stop: 1 },
    );
  });

  it('a batch job that continues as new between waves of targets is one run, counted once', async () => {
    const before = await scrape();
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 40, pool_size: 4 }, metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 120_000)).status, 'Success');
    const continued = (await h.client.workflow.count(`WorkflowId = '${job.id}' AND ExecutionStatus = 'ContinuedAsNew'`)).count;
    assert.ok(continued >= 1, 'the job continued as new');
    const m = await waitFor(
      scrape,
      (s) => total(s, 'TEST_BATCH_TARGET', 'success') - total(before, 'TEST_BATCH_TARGET', 'success') === 40,
      {
        what: 'the 40 targets counted',
      },
    );
    const counted = total(m, 'TEST_BATCH', 'success') - total(before, 'TEST_BATCH', 'success');
    const started =
      (m.get('harbor_jobservice_task_start_latency_seconds_count{type="TEST_BATCH"}') ?? 0) -
      (before.get('harbor_jobservice_task_start_latency_seconds_count{type="TEST_BATCH"}') ?? 0);
    assert.deepEqual(
      { counted, started },
      { counted: 1, started: 1 },
      `one job, one run (its workflow continued as new ${continued} times)`,
    );
  });
});
