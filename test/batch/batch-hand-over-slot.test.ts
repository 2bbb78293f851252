import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { queueWorkflowId, type QueueState } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A fan-out job of a type with a limit hands its history over to a next run (continue-as-new)
 * between waves of targets. Its slot goes over with it: a run of the type that waits behind it
 * does not slip in at the hand-over and run in the middle of the job.
 */
describe('a fan-out with a per-type limit keeps its slot across continue-as-new', () => {
  let h: Harness;
  before(async () => {
    const config = testConfig({
      job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, concurrency_limits: { TEST_BATCH: 1 }, fan_out_history_events: 150 },
    });
    h = await createHarness({
      config,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
  });
  after(async () => {
    await h.close();
  });

  /** When the job's target jobs (children) started and closed, from visibility. */
  const targetTimes = async (parentId: string) => {
    const starts: number[] = [];
    const closes: number[] = [];
    for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${parentId}'` })) {
      starts.push(e.startTime.getTime());
      if (e.closeTime) closes.push(e.closeTime.getTime());
    }
    return { starts, closes };
  };

  const queue = () => h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, 'TEST_BATCH')).query(queueStateQuery);
  const idle = (q: QueueState) => Object.keys(q.running).length === 0 && q.waiting.length === 0;
  const handedOver = (id: string) =>
    waitFor(
      async () => (await h.client.workflow.count(`WorkflowId = '${id}' AND ExecutionStatus = 'ContinuedAsNew'`)).count,
      (n) => n >= 1,
      { timeoutMs: 60_000, what: `${id} to continue as new` },
    );

  it('a run waiting behind it starts only once the whole job has ended', async () => {
    const long = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 30, pool_size: 3, hold_ms: 100 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(long.id, ['Running']);
    const behind = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2, hold_ms: 100 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(long.id, ['Success', 'Error', 'Stopped'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal((await h.waitForStatus(behind.id, ['Success', 'Error', 'Stopped'], 60_000)).status, 'Success');
    const handOvers = await h.client.workflow.count(`WorkflowId = '${long.id}' AND ExecutionStatus = 'ContinuedAsNew'`);
    assert.ok(handOvers.count >= 1, 'the long job continued as new at least once');
    const ofLong = await waitFor(
      () => targetTimes(long.id),
      (t) => t.closes.length === 30,
      { what: "the long job's 30 targets closed in visibility" },
    );
    const ofBehind = await waitFor(
      () => targetTimes(behind.id),
      (t) => t.starts.length === 2,
      { what: "the waiting job's 2 targets in visibility" },
    );
    const longEnded = Math.max(...ofLong.closes);
    const behindStarted = Math.min(...ofBehind.starts);
    assert.ok(
      behindStarted >= longEnded,
      `the waiting job's first target started ${longEnded - behindStarted} ms before the long job's last target closed`,
    );
    // Nothing is left holding the type's one slot.
    await waitFor(queue, idle, { what: 'the queue idle' });
  });

  it('a stop after a hand-over gives the slot back: the next job of the type runs', async () => {
    const long = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 30, pool_size: 3, hold_ms: 300 },
      metadata: { kind: 'Generic' },
    });
    await handedOver(long.id);
    assert.equal((await h.request('POST', `/api/v1/jobs/${long.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(long.id, ['Success', 'Error', 'Stopped'], 60_000)).status, 'Stopped');
    // A slot kept and never given back would hold it until the queue's next probe of holders (5 minutes).
    const next = await h.submit({ name: 'TEST_BATCH', parameters: { count: 1 }, metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(next.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    await waitFor(queue, idle, { what: 'the queue idle' });
  });
});
