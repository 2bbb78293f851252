import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { QueueRow } from '../../src/api/contract.js';
import { queueWorkflowId, type QueueState } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';

/**
 * Harbor's GET /queues `count` is gocraft's queue length (LLEN jobs:<type>) and `latency` the age
 * of the oldest entry there: a Scheduled job whose time has come is moved into that list by
 * gocraft's requeuer and waits there like any other (reference/harbor-jobservice.md §1, §4.2).
 */
describe('GET /queues counts a delayed job that has come due and waits in its type’s queue', () => {
  let h: Harness;
  before(async () => {
    const config = testConfig({ job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, concurrency_limits: { DEMO: 1 } } });
    h = await createHarness({
      config,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
  });
  after(async () => {
    await h.close();
  });

  const queueOf = async (type: string) => {
    const response = await h.request('GET', '/api/v1/queues');
    assert.equal(response.status, 200);
    return ((await response.json()) as QueueRow[]).find((q) => q.job_type === type)!;
  };
  const queueState = (type: string) =>
    h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, type)).query(queueStateQuery) as Promise<QueueState>;

  it('a delayed job that has come due and waits at its paused queue is counted as waiting (count, latency)', async () => {
    assert.equal((await h.request('PUT', '/api/v1/queues/NOOP', { action: 'pause' })).status, 200);
    const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Scheduled', schedule_delay: 1 } });
    // Due, and waiting in line at the paused queue: nothing but the pause holds it back now.
    await waitFor(
      () => queueState('NOOP'),
      (q) => q.waiting.some((e) => e.jobId === job.id),
      { what: 'the due delayed job to wait at the paused NOOP queue' },
    );
    const row = await waitFor(
      () => queueOf('NOOP'),
      (q) => q.count === 1 && q.latency >= 1,
      { timeoutMs: 8_000, what: 'GET /queues to count the due job waiting at the paused NOOP queue' },
    ).catch(async (err: Error) => {
      const now = await queueOf('NOOP');
      const stats = await h.stats(job.id);
      throw new Error(`${err.message.split(';')[0]}; row ${JSON.stringify(now)}, job status ${stats.status}`);
    });
    assert.equal(row.paused, true);
    assert.equal((await h.request('PUT', '/api/v1/queues/NOOP', { action: 'resume' })).status, 200);
    await h.waitForStatus(job.id, ['Success']);
  });

  it('a delayed job that has come due and waits behind a held slot of its limited type is counted as waiting', async () => {
    const holder = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-holder', step_ms: 0, hold_ms: 60_000 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(holder.id, ['Running']);
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-delayed', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Scheduled', schedule_delay: 1 },
    });
    await waitFor(
      () => queueState('DEMO'),
      (q) => q.waiting.some((e) => e.jobId === job.id),
      { what: 'the due delayed DEMO to wait for the held slot' },
    );
    const row = await queueOf('DEMO');
    assert.deepEqual({ count: row.count, running: row.running }, { count: 1, running: 1 }, `row ${JSON.stringify(row)}`);
    await h.request('POST', `/api/v1/jobs/${holder.id}`, { action: 'stop' });
    await h.waitForStatus(job.id, ['Success']);
  });
});
