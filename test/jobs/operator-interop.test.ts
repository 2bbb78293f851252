import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import type { HookLog } from '../../src/api/contract.js';
import { hookLogQuery } from '../../src/workflows/job-messages.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startHookReceiver } from '../helpers/hook-receiver.js';
import { DEFAULT_HOOK_TIMINGS } from '../../src/shared/hook-event.js';
import { resetWorkflow, temporalCli } from '../helpers/temporal-cli.js';

describe('operator interop: the Web UI and the CLI', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: testConfig({ max_retrieve_size_mb: 0.0001 }) });
  });
  after(async () => {
    await h.close();
  });

  it('reflects a Temporal cancel (Web UI / CLI) as Cancelled and a terminate as Stopped', async () => {
    const a = await h.submit({ name: 'DEMO', parameters: { image: 'demo-ui', step_ms: 30_000 }, metadata: { kind: 'Generic' } });
    const b = await h.submit({ name: 'DEMO', parameters: { image: 'demo-ui', step_ms: 30_000 }, metadata: { kind: 'Generic' } });
    await h.waitForStatus(a.id, ['Running']);
    const running = await h.waitForStatus(b.id, ['Running']);
    // A second on from the job's last write, so a terminate's time can be told from it.
    await waitFor(
      async () => Math.floor(Date.now() / 1000),
      (now) => now > running.update_time,
      { what: 'the next second' },
    );
    await h.client.workflow.getHandle(a.id).cancel();
    await h.client.workflow.getHandle(b.id).terminate('operator says so');
    const cancelled = await h.waitForStatus(a.id, ['Cancelled']);
    assert.equal(cancelled.status, 'Cancelled');
    assert.equal((await h.client.workflow.getHandle(a.id).describe()).status.name, 'CANCELLED');
    const stopped = await h.waitForStatus(b.id, ['Stopped']);
    assert.equal(stopped.status, 'Stopped');
    // Its update_time is the terminate's (Harbor's changes with every status write), in GET and lists alike.
    const closedAt = Math.floor((await h.client.workflow.getHandle(b.id).describe()).closeTime!.getTime() / 1000);
    assert.equal(stopped.update_time, closedAt);
    // Both are found by the REST list filters too.
    const listed = await waitFor(
      async () => ((await (await h.request('GET', '/api/v1/jobs?status=Stopped')).json()) as { job: JobStats }[]).map((i) => i.job.id),
      (ids) => ids.includes(b.id),
      { what: 'the terminated job under status=Stopped' },
    );
    assert.ok(listed.includes(b.id));
    const row = ((await (await h.request('GET', '/api/v1/jobs?status=Stopped')).json()) as { job: JobStats }[]).find(
      (i) => i.job.id === b.id,
    );
    assert.equal(row?.job.update_time, closedAt);
  });

  it('is legible in the Web UI: workflow type, id, search attributes and activity name', async () => {
    const { id } = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-ui', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(id, ['Success']);
    const handle = h.client.workflow.getHandle(id);
    const description = await handle.describe();
    assert.equal(description.type, 'GenericJob');
    assert.equal(description.workflowId, id);
    const attributes = description.typedSearchAttributes;
    const value = (name: string) => attributes.getAll().find((pair) => pair.key.name === name)?.value;
    assert.equal(value('JobName'), 'DEMO');
    assert.equal(value('JobKind'), 'Generic');
    assert.equal(value('JobStatus'), 'Success');
    const history = await handle.fetchHistory();
    const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes);
    assert.equal(scheduled?.activityTaskScheduledEventAttributes?.activityType?.name, 'executeJob');
    assert.equal(await description.staticSummary(), 'DEMO job (Generic)');
  });
});

/** Short stop grace and hook retries; a finished job drains its hooks for `drainMs` before it hands them over. */
const closingConfig = (drainMs: number) =>
  testConfig({
    job: {
      stop_grace_seconds: 1,
      checkin_min_interval_ms: 200,
      hook_drain_ms: drainMs,
      hook_retry_initial_ms: 500,
      hook_timeout_seconds: 1,
    },
  });

/** Operators closing a workflow whose job is already final: it drains its hooks, or outlives a run that ignored its stop. */
describe('operator interop: closing the workflow of a finished job', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: closingConfig(30_000) });
  });
  after(async () => {
    await h.close();
  });

  const ids = async (query: string) =>
    ((await (await h.request('GET', `/api/v1/jobs?${query}&name=DEMO&page_size=100`)).json()) as { job: JobStats }[]).map((i) => i.job.id);
  /** Lists read visibility: wait until it has the workflow closed. */
  const closedInVisibility = (id: string) =>
    waitFor(
      () => h.client.workflow.count(`WorkflowId = '${id}' AND ExecutionStatus != 'Running'`),
      (r) => r.count === 1,
      { what: `workflow ${id} closed in visibility` },
    );
  /** A DEMO with a status hook nobody answers: Success, its workflow still open while it drains its hooks. */
  const draining = async (image: string) => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image, step_ms: 0, hold_ms: 0 },
      status_hook: 'http://127.0.0.1:1/never',
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success']);
    assert.equal((await h.client.workflow.getHandle(job.id).describe()).status.name, 'RUNNING');
    return done;
  };

  it('a cancel while the job drains its hooks still hands them over; the job stays Success, listed as such only', async () => {
    const done = await draining('demo-drain-cancel');
    await h.client.workflow.getHandle(done.id).cancel();
    await closedInVisibility(done.id);
    // As any finished job's undelivered hooks: handed in order to `<id>-hooks-<revision>`.
    const delivery = await waitFor(
      () => h.client.workflow.count(`WorkflowId = '${done.id}-hooks-${done.revision}'`),
      (r) => r.count === 1,
      { what: 'the HookDelivery workflow' },
    );
    assert.equal(delivery.count, 1);
    assert.equal((await h.stats(done.id)).status, 'Success');
    assert.ok((await ids('status=Success')).includes(done.id));
    assert.ok(!(await ids('status=Cancelled')).includes(done.id), 'listed under Cancelled too');
    await h.client.workflow.getHandle(`${done.id}-hooks-${done.revision}`).terminate('test over');
  });

  for (const close of ['cancel', 'terminate'] as const) {
    it(`an operator's ${close} of the hand-over (HookDelivery) gives up what it still owed: GET /jobs/{id}/hooks says given_up, not pending`, async () => {
      const done = await draining(`demo-delivery-${close}`);
      // The job's cancel ends its drain: the hooks go to `<id>-hooks-<revision>`, which retries them.
      await h.client.workflow.getHandle(done.id).cancel();
      const deliveryId = `${done.id}-hooks-${done.revision}`;
      await waitFor(
        () => h.client.workflow.count(`WorkflowId = '${deliveryId}' AND ExecutionStatus = 'Running'`),
        (r) => r.count === 1,
        { what: 'the HookDelivery workflow running' },
      );
      temporalCli(
        h.config.temporal.address!,
        'workflow',
        close,
        '--workflow-id',
        deliveryId,
        ...(close === 'terminate' ? ['--reason', 'give up on a receiver'] : []),
      );
      await waitFor(
        async () => (await h.client.workflow.getHandle(deliveryId).describe()).status.name,
        (s) => s === (close === 'cancel' ? 'CANCELLED' : 'TERMINATED'),
        { what: `the delivery closed by the ${close}` },
      );
      const response = await h.request('GET', `/api/v1/jobs/${done.id}/hooks`);
      assert.equal(response.status, 200, await response.clone().text());
      const log = (await response.json()) as {
        events: { status: string; outcome: string }[];
      };
      assert.ok(
        log.events.some((e) => e.status === 'Success'),
        JSON.stringify(log),
      );
      assert.deepEqual(
        log.events.filter((e) => e.outcome === 'pending'),
        [],
        'nothing retries them any more',
      );
      assert.equal(log.events.find((e) => e.status === 'Success')?.outcome, 'given_up');
      assert.equal((await h.stats(done.id)).status, 'Success');
    });
  }

  it('a hand-over terminated before it ran a workflow task: GET /jobs/{id}/hooks reads what its start owed as given_up (the server cannot query it)', async () => {
    const receiver = await startHookReceiver();
    try {
      const job = await h.submit({
        name: 'DEMO',
        parameters: { image: 'demo-unstarted-delivery', step_ms: 0, hold_ms: 0 },
        status_hook: receiver.url('/unstarted'),
        metadata: { kind: 'Generic' },
      });
      const done = await h.waitForStatus(job.id, ['Success']);
      await closedInVisibility(done.id);
      // A delivery the job handed over, which the operator terminated before any worker took its
      // first task: on a queue nobody polls, it never gets one.
      const owed = { id: `${done.id}.${done.revision}.99`, event: { status: 'Success' }, attempts: 3, firstAttemptAt: Date.now() };
      const deliveryId = `${done.id}-hooks-${done.revision}`;
      await h.client.workflow.start('HookDelivery', {
        taskQueue: 'nobody-polls-this-queue',
        workflowId: deliveryId,
        args: [{ jobId: done.id, url: receiver.url('/unstarted'), timings: DEFAULT_HOOK_TIMINGS, events: [owed] }],
      });
      await h.client.workflow.getHandle(deliveryId).terminate('give up on a receiver');
      const response = await h.request('GET', `/api/v1/jobs/${done.id}/hooks`);
      assert.equal(response.status, 200, await response.clone().text());
      const log = (await response.json()) as HookLog;
      assert.deepEqual(
        log.events.find((e) => e.id === owed.id),
        { id: owed.id, status: 'Success', attempts: [], outcome: 'given_up' },
      );
      assert.ok(
        log.events.some((e) => e.outcome === 'delivered' && e.status === 'Success'),
        `the job's own deliveries are still listed: ${JSON.stringify(log)}`,
      );
    } finally {
      await receiver.close();
    }
  });

  it('a terminate while the job drains its hooks leaves it listed under the status GET gives, not under Stopped', async () => {
    const done = await draining('demo-drain-terminate');
    await h.client.workflow.getHandle(done.id).terminate('operator');
    await closedInVisibility(done.id);
    assert.equal((await h.stats(done.id)).status, 'Success');
    assert.ok((await ids('status=Success')).includes(done.id));
    assert.ok(!(await ids('status=Stopped')).includes(done.id), 'listed under Stopped too');
  });

  it('a cancel of a stopped job that outlives its abandoned run ends the wait; the job stays Stopped, listed as such only', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-abandoned', step_ms: 3000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    assert.equal((await h.client.workflow.getHandle(job.id).describe()).status.name, 'RUNNING', 'the abandoned run keeps it open');
    await h.client.workflow.getHandle(job.id).cancel();
    await closedInVisibility(job.id);
    assert.equal((await h.stats(job.id)).status, 'Stopped');
    assert.ok((await ids('status=Stopped')).includes(job.id));
    assert.ok(!(await ids('status=Cancelled')).includes(job.id), 'listed under Cancelled too');
    // The run that ignored everything still finishes its steps on the worker.
    await waitFor(
      async () => readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'),
      (log) => /run ended after stop/.test(log),
      { what: 'the abandoned run to return', timeoutMs: 30_000 },
    );
  });

  it('a retry after a Web UI cancel of a run that ignores it is refused until the run has returned: the job never runs twice at once', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-cancel-then-retry', step_ms: 3_000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    await h.client.workflow.getHandle(job.id).cancel();
    await h.waitForStatus(job.id, ['Cancelled']);
    const early = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' });
    assert.equal(early.status, 409, await early.clone().text());
    assert.match(((await early.json()) as { description: string }).description, /still runs/);
    // The workflow closes as cancelled once the run has returned; then the retry goes.
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s === 'CANCELLED',
      { what: 'the ignored run to return and the workflow to close', timeoutMs: 20_000 },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    const starts = readFileSync(join(h.logDir, `${job.id}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes('run of DEMO started') || l.includes("I'm finished"));
    assert.deepEqual(
      starts.map((l) => (l.includes('started') ? 'start' : 'end')),
      ['start', 'end', 'start', 'end'],
      'each run ended before the next started',
    );
  });

  it('a retry right after a terminate of a running job is refused while the run may still work on its worker', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-terminate-then-retry', step_ms: 3_000, hold_ms: 0, ignore_stop: true },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    await h.client.workflow.getHandle(job.id).terminate('operator');
    await h.waitForStatus(job.id, ['Stopped']);
    const early = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' });
    assert.equal(early.status, 409, await early.clone().text());
    assert.match(((await early.json()) as { description: string }).description, /terminated while its run was going.*try again in \d+ s/);
    // Past the heartbeat timeout and the stop grace it goes.
    await waitFor(
      async () => (await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status,
      (status) => status === 204,
      { what: 'the retry to be taken', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
  });

  it('a fan-out target cancelled from outside reads Cancelled in its parent’s results, as GET of the target says', async () => {
    const parent = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2, hold_ms: 15_000 }, metadata: { kind: 'Generic' } });
    // A target reports no Running; its run has started once its activity is pending.
    const running = async () => {
      for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${parent.id}' AND ExecutionStatus = 'Running'` })) {
        if (((await h.client.workflow.getHandle(e.workflowId).describe()).raw.pendingActivities?.length ?? 0) > 0) return e.workflowId;
      }
      return undefined;
    };
    const childId = (await waitFor(running, (id) => id !== undefined, { what: 'a target’s run', timeoutMs: 30_000 }))!;
    await h.client.workflow.getHandle(childId).cancel();
    assert.equal((await h.waitForStatus(childId, ['Cancelled', 'Stopped', 'Error', 'Success'])).status, 'Cancelled');
    const done = await h.waitForStatus(parent.id, ['Success', 'Error', 'Stopped'], 60_000);
    const inParent = Object.values(done.results ?? {}).find((r) => r.job_id === childId);
    assert.equal(inParent?.status, 'Cancelled', `the parent's results: ${JSON.stringify(done.results)}`);
  });

  /** `temporal workflow reset`, as an operator runs it (the Web UI's reset does the same). */
  const reset = (id: string, type: 'FirstWorkflowTask' | 'LastWorkflowTask' = 'FirstWorkflowTask') =>
    resetWorkflow(h.config.temporal.address!, id, type);

  /** Every run of the id visibility lists, whatever its status. */
  /** The run ids visibility lists for the id, whatever their status: right after a reset, the new run's row may not be there yet. */
  const runs = async (id: string) => {
    const listed: string[] = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${id}'` })) listed.push(run.runId);
    return listed;
  };
  const rowsOf = async (id: string, query = '') => (await ids(query)).filter((row) => row === id).length;

  it('a reset of a running job (CLI, Web UI) replaces its run: one row, not listed Stopped, the old run deleted', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-running', step_ms: 30_000 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Running']);
    const { runId: before } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id);
    // The run it replaced goes once the new one has started; visibility follows.
    await waitFor(
      () => runs(job.id),
      (r) => r.length === 1 && r[0] !== before,
      { what: `the replaced run of ${job.id} deleted` },
    );
    const now = await h.client.workflow.getHandle(job.id).describe();
    assert.notEqual(now.runId, before);
    assert.equal(now.status.name, 'RUNNING');
    const stats = await h.waitForStatus(job.id, ['Running']);
    assert.equal(stats.id, job.id);
    assert.equal(await rowsOf(job.id), 1, 'one row for the job');
    assert.equal(await rowsOf(job.id, 'status=Stopped'), 0, 'listed Stopped by the replaced run');
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
  });

  it('a reset of a finished job runs it again under its id, listed once', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-done', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Success']);
    await closedInVisibility(job.id);
    const { runId: before } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id);
    await waitFor(
      async () => ({ runs: await runs(job.id), run: await h.client.workflow.getHandle(job.id).describe() }),
      (r) => r.runs.length === 1 && r.runs[0] !== before && r.run.status.name === 'COMPLETED',
      { what: `the re-run of ${job.id} to finish, and its replaced run deleted` },
    );
    assert.equal((await h.stats(job.id)).status, 'Success');
    await waitFor(
      () => rowsOf(job.id, 'status=Success'),
      (n) => n === 1,
      { what: 'the job listed once under Success' },
    );
    assert.equal(await rowsOf(job.id), 1);
  });

  it('a second reset, to a later point of the re-run, deletes the run it replaced too', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-twice', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Success']);
    const { runId: first } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id);
    const [second] = await waitFor(
      () => runs(job.id),
      (r) => r.length === 1 && r[0] !== first,
      { what: 'the first re-run alone' },
    );
    reset(job.id, 'LastWorkflowTask');
    const third = await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).runId,
      (runId) => runId !== second,
      { what: 'the second re-run' },
    );
    await waitFor(
      () => runs(job.id),
      (r) => r.length === 1 && r[0] === third,
      { what: 'the second re-run alone', timeoutMs: 30_000 },
    );
    await waitFor(
      () => rowsOf(job.id, 'status=Success'),
      (n) => n === 1,
      { what: 'the job listed once under Success' },
    );
  });

  it('a reset of a delayed job deletes the run it replaced at once, not when the job comes due', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-delayed', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Scheduled', schedule_delay: 120 },
    });
    await h.waitForStatus(job.id, ['Scheduled']);
    const { runId: before } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id);
    // Well inside the delay: the re-run waits for it, with the replaced run already gone.
    await waitFor(
      () => runs(job.id),
      (r) => r.length === 1 && r[0] !== before,
      { what: 'the replaced run deleted', timeoutMs: 30_000 },
    );
    assert.equal((await h.stats(job.id)).status, 'Scheduled');
    assert.equal(await rowsOf(job.id, 'status=Stopped'), 0);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
  });

  it('a reset of a running job to a point after its run started deletes the run it replaced at its next check-in', async () => {
    // A long hold after the last check-in: the job is still running when the deletion shows, on a busy machine too.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-late', step_ms: 3000, hold_ms: 30_000 },
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      () => h.stats(job.id),
      (s) => s.status === 'Running' && s.check_in !== undefined,
      { what: 'a first check-in' },
    );
    const { runId: before } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id, 'LastWorkflowTask');
    await waitFor(
      () => runs(job.id),
      (r) => r.length === 1 && r[0] !== before,
      { what: 'the replaced run deleted', timeoutMs: 30_000 },
    );
    assert.equal((await h.stats(job.id)).status, 'Running');
    assert.equal(await rowsOf(job.id, 'status=Stopped'), 0);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
  });
});

// Its own harness: it waits out two drains (the run's and the re-run's), which the describe above
// makes 30 s long so that its tests can act during one.
describe('operator interop: a reset of a job whose hooks were handed over', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ config: closingConfig(2000) });
  });
  after(async () => {
    await h.close();
  });
  const reset = (id: string) => resetWorkflow(h.config.temporal.address!, id);

  it('a reset of a job whose hooks were handed over, still undelivered, hands the re-run’s over too and ends as the job did', async () => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-reset-hooks', step_ms: 0, hold_ms: 0 },
      status_hook: 'http://127.0.0.1:1/never',
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success']);
    const delivery = `${job.id}-hooks-${done.revision}`;
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { what: 'the job to hand its hooks over and close', timeoutMs: 60_000 },
    );
    await waitFor(
      () => h.client.workflow.count(`WorkflowId = '${delivery}' AND ExecutionStatus = 'Running'`),
      (r) => r.count === 1,
      {
        what: 'the first run’s hooks handed over',
      },
    );
    const { runId: before } = await h.client.workflow.getHandle(job.id).describe();
    reset(job.id);
    const rerun = await waitFor(
      async () => await h.client.workflow.getHandle(job.id).describe(),
      (d) => d.runId !== before && d.status.name !== 'RUNNING',
      { what: 'the re-run to close', timeoutMs: 40_000 },
    );
    assert.equal(rerun.status.name, 'COMPLETED', 'the re-run failed handing its hooks over');
    assert.equal((await h.stats(job.id)).status, 'Success');
    const handedOver = await waitFor(
      () => h.client.workflow.count(`WorkflowId STARTS_WITH '${delivery}' AND ExecutionStatus = 'Running'`),
      (r) => r.count === 2,
      { what: 'both runs’ hooks still being delivered' },
    );
    assert.equal(handedOver.count, 2);
    // The job's hook log follows both deliveries: each has tried, then both stop so the logs hold still.
    const second = `${delivery}-2`;
    await waitFor(
      () => h.client.workflow.getHandle(second).query(hookLogQuery),
      (log) => log.some((r) => r.attempts.length > 0),
      { what: 'the re-run’s delivery to try an event', timeoutMs: 30_000 },
    );
    for (const id of [delivery, second]) await h.client.workflow.getHandle(id).terminate('test over');
    const logs = await Promise.all([job.id, delivery, second].map((id) => h.client.workflow.getHandle(id).query(hookLogQuery)));
    const shown = ((await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as HookLog).events;
    for (const record of logs[2]!) {
      const expected = logs
        .flatMap((log) => log.find((r) => r.id === record.id)?.attempts ?? [])
        .map((a) => a.at)
        .sort((a, b) => a - b);
      const got = shown.find((e) => e.id === record.id);
      assert.deepEqual(
        got?.attempts.map((a) => a.at),
        expected,
        `event ${record.id}: the attempts of the job and of both deliveries`,
      );
      // Terminated above: what they still owed nothing retries, and the API says so.
      assert.equal(got?.outcome, record.outcome === 'pending' ? 'given_up' : record.outcome);
    }
  });
});
