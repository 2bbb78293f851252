import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { QueueRow } from '../../src/api/contract.js';
import { queueWorkflowId, type QueueState } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';

/**
 * docs/queues.md: a type's limit is what the workers' configuration gives it ("a worker starting
 * tells each open queue of its types the limit its configuration gives the type"; a run "gets in
 * line under this worker's configuration of its type"). GET /queues shows `concurrency_limit`
 * beside `running`: an operator reads it as the limit being enforced. Here the workers were
 * restarted with DEMO raised to 2 while the API process still has the file it started with (API
 * and workers are separate processes, docs/operators.md).
 */
describe('GET /queues shows the limit the queue enforces, the workers’ configuration', () => {
  let h: Harness;
  let worker: ChildProcess;
  before(async () => {
    const config = testConfig({ job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, concurrency_limits: { DEMO: 1 } } });
    h = await createHarness({
      config,
      worker: false,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
    worker = spawnWorkerProcess(h.config, h.logDir, { job: { concurrency_limits: { DEMO: 2 } } });
  });
  after(async () => {
    worker.kill('SIGTERM');
    await exited(worker);
    await h.close();
  });

  it('concurrency_limit is the limit the queue holds the type to (never below what runs under it)', async () => {
    const demo = (image: string) => ({ name: 'DEMO', parameters: { image, step_ms: 0, hold_ms: 60_000 }, metadata: { kind: 'Generic' } });
    const jobs = [await h.submit(demo('demo-a')), await h.submit(demo('demo-b'))];
    const q = await waitFor(
      () =>
        h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, 'DEMO')).query(queueStateQuery) as Promise<QueueState>,
      (s) => Object.keys(s.running).length === 2,
      { timeoutMs: 60_000, what: 'both DEMO runs to hold a slot (the workers limit DEMO to 2)' },
    );
    assert.equal(q.limit, 2, 'the queue enforces the workers’ limit');
    for (const j of jobs) await h.waitForStatus(j.id, ['Running'], 30_000);
    const response = await h.request('GET', '/api/v1/queues');
    const row = ((await response.json()) as QueueRow[]).find((r) => r.job_type === 'DEMO')!;
    assert.equal(row.running, 2);
    assert.equal(row.concurrency_limit, 2, `GET /queues row: ${JSON.stringify(row)}`);
  });
});
