import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { queueWorkflowId, type QueueState } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { resetWorkflow } from '../helpers/temporal-cli.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A fan-out job of a type with a limit hands its history over to a next run (continue-as-new)
 * between waves of targets. Its slot goes over with it: a run of the type that waits behind it
 * does not slip in at the hand-over and run in the middle of the job.
 */
describe('a fan-out with a per-type limit keeps its slot across continue-as-new', () => {
  let h: Harness;
  let hooks: HookReceiver;
  before(async () => {
    hooks = await startHookReceiver();
    const config = testConfig({
      job: {
        stop_grace_seconds: 2,
        heartbeat_timeout_seconds: 5,
        concurrency_limits: { TEST_BATCH: 1 },
        fan_out_history_events: 150,
        hook_timeout_seconds: 10,
        hook_drain_ms: 0,
      },
    });
    h = await createHarness({
      config,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
  });
  after(async () => {
    await h.close();
    await hooks.close();
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

  it('a stop at the hand-over gives the kept slot back', async () => {
    const long = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 30, pool_size: 3, hold_ms: 100 },
      status_hook: hooks.url('overtaken'),
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(long.id, ['Running']);
    // The receiver stops answering: at its hand-over the run waits for the hook POST under way (what
    // is left of its 10 s timeout) before it continues as new, and the stop mostly comes in that
    // wait; else it comes to the next run, which has not used the kept slot yet or is running in it.
    hooks.setHanging(true);
    try {
      await waitFor(
        () => h.stats(long.id),
        (job) => {
          const progress = job.check_in ? (JSON.parse(job.check_in) as { done?: number; running?: number }) : {};
          return progress.running === 0 && (progress.done ?? 0) > 0 && (progress.done ?? 0) < 30;
        },
        { timeoutMs: 60_000, intervalMs: 50, what: 'the hand-over (no target running, targets left)' },
      );
      assert.equal((await h.request('POST', `/api/v1/jobs/${long.id}`, { action: 'stop' })).status, 204);
      assert.equal((await h.waitForStatus(long.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Stopped');
      // The slot went back with the stop (once the POST under way has ended), not at the queue's next
      // probe of holders (5 minutes).
      await waitFor(queue, idle, { timeoutMs: 15_000, what: 'the queue idle' });
    } finally {
      hooks.setHanging(false);
    }
  });

  it('a reset of a job that continued as new gets in line again: it does not run beside the job holding the slot', async () => {
    const long = await h.submit({ name: 'TEST_BATCH', parameters: { count: 30, pool_size: 3 }, metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(long.id, ['Success', 'Error', 'Stopped'], 120_000)).status, 'Success');
    await handedOver(long.id);
    // It holds past the reset run's wait for the run it replaced to wind down (heartbeat timeout + stop grace, 7 s).
    const holder = await h.submit({ name: 'TEST_BATCH', parameters: { count: 1, hold_ms: 15_000 }, metadata: { kind: 'Generic' } });
    await waitFor(queue, (q) => q.running[holder.id] !== undefined, { what: 'the holder granted the slot' });
    const targetsBefore = (await targetTimes(long.id)).starts.length;
    const { runId: before } = await h.client.workflow.getHandle(long.id).describe();
    // The last run's start input carries the slot its predecessor kept, long given back.
    resetWorkflow(h.config.temporal.address!, long.id);
    const waiting = await waitFor(queue, (q) => q.waiting.some((e) => e.jobId === long.id), {
      timeoutMs: 30_000,
      what: 'the reset run in line',
    });
    assert.deepEqual(Object.keys(waiting.running), [holder.id]);
    assert.equal((await h.stats(holder.id)).status, 'Running');
    assert.equal((await targetTimes(long.id)).starts.length, targetsBefore, 'the reset run started no target while the holder runs');
    assert.equal((await h.waitForStatus(holder.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    await waitFor(
      () => h.client.workflow.getHandle(long.id).describe(),
      (d) => d.runId !== before && d.status.name === 'COMPLETED',
      { timeoutMs: 60_000, what: 'the reset run to finish' },
    );
    assert.equal((await h.stats(long.id)).status, 'Success');
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
