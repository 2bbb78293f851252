import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queueWorkflowId, type QueueState } from '../../src/shared/job-queue.js';
import { queueStateQuery, slotGrantedSignal } from '../../src/workflows/queue-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { waitFor } from '../helpers/wait-for.js';
import { resetWorkflow, temporalCli } from '../helpers/temporal-cli.js';

const demo = (image: string, hold_ms: number) => ({
  name: 'DEMO',
  parameters: { image, step_ms: 0, hold_ms },
  metadata: { kind: 'Generic' },
});

describe('a JobQueue workflow closed, reset or cancelled from outside (Web UI / CLI) while runs wait in it', () => {
  let h: Harness;
  before(async () => {
    const config = testConfig({
      job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, concurrency_limits: { DEMO: 1 }, queue_ask_again_seconds: 2 },
    });
    h = await createHarness({
      config,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
  });
  after(async () => {
    await h.close();
  });

  it('the runs that waited in it ask a fresh queue and run (they waited Pending for ever)', async () => {
    const queueId = queueWorkflowId(h.config.temporal.task_queue, 'DEMO');
    const holder = await h.submit(demo('demo-holder', 3_000));
    await h.waitForStatus(holder.id, ['Running']);
    const waiter = await h.submit(demo('demo-waiter', 0));
    await waitFor(
      () => h.client.workflow.getHandle(queueId).query(queueStateQuery) as Promise<QueueState>,
      (q) => q.waiting.some((e) => e.jobId === waiter.id),
      { what: 'the waiter in line' },
    );
    await h.client.workflow.getHandle(queueId).terminate('operator');
    assert.equal((await h.waitForStatus(holder.id, ['Success', 'Error'])).status, 'Success');
    const end = await h.waitForStatus(waiter.id, ['Success', 'Error', 'Stopped'], 30_000);
    assert.equal(end.status, 'Success');
  });

  it('a reset run in line takes no grant meant for the run it replaced: it does not start beside the holder', async () => {
    const queue = h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, 'DEMO'));
    const queueState = () => queue.query(queueStateQuery) as Promise<QueueState>;
    const holder = await h.submit(demo('demo-reset-holder', 120_000));
    await h.waitForStatus(holder.id, ['Running']);
    const waiter = await h.submit(demo('demo-reset-waiter', 0));
    const inLine = (q: QueueState) => q.waiting.find((e) => e.jobId === waiter.id);
    const replaced = inLine(await waitFor(queueState, (q) => inLine(q) !== undefined, { what: 'the waiter in line' }))!;
    resetWorkflow(h.config.temporal.address!, waiter.id);
    // The reset run gets in line again, pending since its own start.
    await waitFor(queueState, (q) => (inLine(q)?.at ?? replaced.at) !== replaced.at, { what: 'the reset run in line' });
    // A grant the queue sent the replaced run, landing after the reset: a signal by job id reaches the current run.
    const handle = h.client.workflow.getHandle(waiter.id);
    await handle.signal(slotGrantedSignal, { ticket: replaced.ticket });
    // The events from the late grant on (the reset run's own grants come only after the holder ends).
    const sinceGrant = async () => {
      const all = (await handle.fetchHistory()).events ?? [];
      const at = all.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName).lastIndexOf('slotGranted');
      return at < 0 ? [] : all.slice(at);
    };
    const handled = await waitFor(sinceGrant, (events) => events.some((e) => e.workflowTaskCompletedEventAttributes), {
      what: 'the reset run to have handled the late grant',
    });
    assert.ok(
      !handled.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeJob'),
      'the reset run started its job on a grant meant for the run it replaced',
    );
    assert.equal((await h.stats(waiter.id)).status, 'Pending');
    assert.equal((await h.request('POST', `/api/v1/jobs/${holder.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(waiter.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
  });

  it('the place in line of a waiting run a reset replaced goes at once: the queue never grants a slot to the replaced run (no run would take it)', async () => {
    const queue = h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, 'DEMO'));
    const queueState = () => queue.query(queueStateQuery) as Promise<QueueState>;
    const holder = await h.submit(demo('demo-drop-holder', 60_000));
    await h.waitForStatus(holder.id, ['Running']);
    const reset = await h.submit(demo('demo-drop-reset', 0));
    const place = (q: QueueState) => q.waiting.find((e) => e.jobId === reset.id);
    const replaced = place(await waitFor(queueState, (q) => place(q) !== undefined, { what: 'the waiter in line' }))!;
    const next = await h.submit(demo('demo-drop-next', 0));
    await waitFor(queueState, (q) => q.waiting.some((e) => e.jobId === next.id), { what: 'the second waiter in line' });
    resetWorkflow(h.config.temporal.address!, reset.id);
    // The reset run outwaits the replaced one (the heartbeat timeout and the stop grace) before it gets in line again.
    await waitFor(queueState, (q) => place(q) === undefined, { what: "the replaced run's place gone" });
    assert.equal((await h.request('POST', `/api/v1/jobs/${holder.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(next.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    assert.equal((await h.waitForStatus(reset.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    // Every grant the job got since the reset, by ticket: none for the place of the run it replaced.
    const converter = h.client.options.loadedDataConverter.payloadConverter;
    const grants = ((await h.client.workflow.getHandle(reset.id).fetchHistory()).events ?? []).flatMap((e) => {
      const signal = e.workflowExecutionSignaledEventAttributes;
      return signal?.signalName === 'slotGranted' ? [converter.fromPayload<{ ticket: string }>(signal.input!.payloads![0]!).ticket] : [];
    });
    assert.ok(grants.length > 0, 'the reset run was granted its slot');
    assert.equal(grants.includes(replaced.ticket), false, `grants ${JSON.stringify(grants)}; the replaced run's ticket ${replaced.ticket}`);
  });

  it("a reset of the slot's holder keeps the slot until the replaced run has wound down: the limit of 1 holds", async () => {
    const holder = await h.submit(demo('demo-reset-slot-holder', 60_000));
    await h.waitForStatus(holder.id, ['Running']);
    const waiter = await h.submit(demo('demo-behind-reset-holder', 0));
    const queue = h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, 'DEMO'));
    await waitFor(
      () => queue.query(queueStateQuery) as Promise<QueueState>,
      (q) => q.waiting.some((e) => e.jobId === waiter.id),
      { what: 'the waiter in line' },
    );
    resetWorkflow(h.config.temporal.address!, holder.id);
    assert.equal((await h.waitForStatus(waiter.id, ['Success', 'Error', 'Stopped'], 60_000)).status, 'Success');
    // Each run from its log: from its start line to its end line (none yet: still running).
    const runs = [holder.id, waiter.id].flatMap((id) => {
      const found: { id: string; start: number; end: number }[] = [];
      for (const line of readFileSync(join(h.logDir, `${id}.log`), 'utf8')
        .trim()
        .split('\n')) {
        const at = Date.parse(line.slice(0, 24));
        if (line.includes('run of DEMO started')) found.push({ id, start: at, end: Infinity });
        else if (/run (ended|finished)/.test(line) && found.length > 0) found[found.length - 1]!.end = at;
      }
      return found;
    });
    assert.ok(runs.length >= 2, `the holder's run and the waiter's: ${JSON.stringify(runs)}`);
    for (const run of runs) {
      const beside = runs.filter((other) => other !== run && other.start <= run.start && run.start < other.end);
      assert.deepEqual(beside, [], `a DEMO run started beside another under a limit of 1: ${JSON.stringify(runs)}`);
    }
    assert.equal((await h.request('POST', `/api/v1/jobs/${holder.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(holder.id, ['Stopped', 'Success']);
  });

  it("an operator's cancel (Web UI, `temporal workflow cancel`) does not end the queue: it goes on with its slots, and the limit of 1 holds", async () => {
    const queueId = queueWorkflowId(h.config.temporal.task_queue, 'DEMO');
    const queueState = () => h.client.workflow.getHandle(queueId).query(queueStateQuery) as Promise<QueueState>;
    const holder = await h.submit(demo('demo-cancel-holder', 12_000));
    await h.waitForStatus(holder.id, ['Running']);
    const waiter = await h.submit(demo('demo-cancel-waiter', 0));
    await waitFor(queueState, (q) => q.waiting.some((e) => e.jobId === waiter.id), { what: 'the waiter in line' });
    const { runId } = await h.client.workflow.getHandle(queueId).describe();
    temporalCli(h.config.temporal.address!, 'workflow', 'cancel', '--workflow-id', queueId);
    const closed = await waitFor(
      () => h.client.workflow.getHandle(queueId, runId).describe(),
      (d) => d.status.name !== 'RUNNING',
      { what: 'the cancelled run to close' },
    );
    assert.equal(closed.status.name, 'CONTINUED_AS_NEW');
    const next = await queueState();
    assert.ok(next.running[holder.id], 'the holder still holds its slot in the next run');
    assert.ok(
      next.waiting.some((e) => e.jobId === waiter.id),
      'the waiter still in line',
    );
    // The waiter asks again every 2 s: no fresh queue grants it the holder's slot meanwhile.
    const seen = await waitFor(
      async () => ({ waiter: (await h.stats(waiter.id)).status, holder: (await h.stats(holder.id)).status }),
      (s) => s.waiter !== 'Pending' || s.holder !== 'Running',
      { timeoutMs: 40_000, what: 'the waiter to start or the holder to end' },
    );
    assert.notEqual(seen.holder, 'Running', `under a limit of 1 the waiter left Pending (${seen.waiter}) while the holder still ran`);
    assert.equal((await h.waitForStatus(waiter.id, ['Success', 'Error', 'Stopped', 'Cancelled'], 60_000)).status, 'Success');
  });
});

describe("an operator's reset of a job submitted before its type's queue was stopped", () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('runs the job again: the stop holds back runs pending before it, not a re-run asked for after it', async () => {
    const job = await h.submit(demo('demo-reset-after-stop', 0));
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    assert.equal((await h.request('PUT', '/api/v1/queues/DEMO', { action: 'stop' })).status, 200);
    const { runId: replaced } = await h.client.workflow.getHandle(job.id).describe();
    resetWorkflow(h.config.temporal.address!, job.id);
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.runId !== replaced && d.status.name !== 'RUNNING',
      { timeoutMs: 30_000, what: 'the re-run to end' },
    );
    assert.equal((await h.stats(job.id)).status, 'Success', readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'));
  });
});

describe('a paused queue whose workflow is closed from outside', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('stays paused: a fresh queue starts from its pause, and runs again only on resume (it ran everything)', async () => {
    const queueId = queueWorkflowId(h.config.temporal.task_queue, 'DEMO');
    assert.equal((await h.request('PUT', '/api/v1/queues/DEMO', { action: 'pause' })).status, 200);
    await h.client.workflow.getHandle(queueId).terminate('operator');
    const job = await h.submit(demo('demo-paused-closed', 0));
    const fresh = await waitFor(
      () => h.client.workflow.getHandle(queueId).query(queueStateQuery) as Promise<QueueState>,
      (q) => q.waiting.some((e) => e.jobId === job.id),
      { what: 'the job in line in a fresh queue' },
    );
    assert.equal(fresh.paused, true);
    assert.equal((await h.stats(job.id)).status, 'Pending');
    assert.equal((await h.request('PUT', '/api/v1/queues/DEMO', { action: 'resume' })).status, 200);
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 30_000)).status, 'Success');
  });
});
