import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobReport } from '../../src/api/contract.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';
import { deleteExecutionAndChildren } from '../../src/activities/delete-execution.js';

describe('a long fan-out continues as new between waves of children, and loses nothing', () => {
  let h: Harness;
  let hooks: HookReceiver;
  before(async () => {
    // A short history budget, so 40 targets take several runs (the default is 8,000 events).
    h = await createHarness({
      config: testConfig({
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200, fan_out_history_events: 150 },
      }),
    });
    hooks = await startHookReceiver();
  });
  const schedules: string[] = [];
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
    await hooks.close();
  });

  it('targets named like Object.prototype keys run, across runs too, and one that fails fails the job', async () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__'];
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 40, pool_size: 4, names, fail: ['__proto__'] },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Error');
    assert.deepEqual(JSON.parse(done.check_in!), { done: 44, targets: 44, failed: 1, running: 0 });
    assert.match(done.last_error ?? '', /1 of 44 targets did not succeed: __proto__ \(Error\)/);
    const report = await waitFor(
      async () =>
        (await (await h.request('GET', `/api/v1/jobs/${job.id}/report`)).json()) as { targets: Record<string, { status: string }> },
      (r) => Object.keys(r.targets).length === 44,
      { what: 'the report with all 44 targets' },
    );
    for (const name of names) assert.ok(Object.hasOwn(report.targets, name), `${name} in the report`);
    const target = (name: string) => (Object.hasOwn(report.targets, name) ? report.targets[name] : undefined);
    assert.equal(target('__proto__')?.status, 'Error');
    assert.equal(target('constructor')?.status, 'Success');
  });

  it('deleting an execution with its children leaves a sub job that still runs, though an earlier run of it continued as new', async () => {
    const parent = await h.submit({ name: 'TEST_BATCH_PARENT', parameters: { count: 60, hold_ms: 400 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(parent.id, ['Success', 'Error'], 30_000);
    assert.equal(done.status, 'Success', done.last_error);
    const sub = done.check_in!;
    await waitFor(
      async () => (await h.client.workflow.count(`WorkflowId = '${sub}' AND ExecutionStatus = 'ContinuedAsNew'`)).count,
      (n) => n >= 1,
      { timeoutMs: 60_000, what: 'the sub job to continue as new' },
    );
    assert.equal((await h.client.workflow.getHandle(sub).describe()).status.name, 'RUNNING');
    await deleteExecutionAndChildren({ client: h.client }, parent.id);
    assert.equal((await h.client.workflow.getHandle(sub).describe()).status.name, 'RUNNING', 'the running sub job was left to run');
    await waitFor(
      async () => (await h.request('GET', `/api/v1/jobs/${parent.id}`)).status,
      (status) => status === 404,
      { what: 'the parent deleted' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${sub}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(sub, ['Stopped'], 60_000);
  });

  it('runs every target exactly once across runs, and every view shows one execution with all of them', async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 40, pool_size: 4, report_history: 5 },
      status_hook: hooks.url('long'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(JSON.parse(done.check_in!), { done: 40, targets: 40, failed: 0, running: 0 });

    // Visibility takes the runs' and the children's closes a little after the job's own state.
    const runs = await waitFor(
      async () => {
        const statuses: string[] = [];
        for await (const e of h.client.workflow.list({ query: `WorkflowId = '${job.id}'` })) statuses.push(e.status.name);
        return statuses;
      },
      (statuses) => statuses.filter((status) => status !== 'CONTINUED_AS_NEW').length === 1 && !statuses.includes('RUNNING'),
      { what: 'every run of the job closed in visibility, the last one ended' },
    );
    assert.ok(runs.length >= 2, `${runs.length} run(s): the history budget was not used`);
    assert.equal(runs.filter((s) => s === 'CONTINUED_AS_NEW').length, runs.length - 1);
    // A run continued as new is not a reset one: it deletes none of the runs before it.
    const lastRun = (await h.client.workflow.getHandle(job.id).fetchHistory()).events ?? [];
    const deletions = lastRun.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deleteSupersededRuns');
    assert.equal(deletions.length, 0, 'the last run asked to delete runs a reset replaced');

    const children = await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}'` })) ids.push(e.workflowId);
        return ids;
      },
      (ids) => ids.length >= 40,
      { what: 'the 40 children in visibility' },
    );
    assert.equal(children.length, 40, 'each target ran once');
    assert.equal(Object.keys(done.results ?? {}).length, 40);
    assert.equal(done.revision, job.revision);

    const report = await waitFor(
      async () => (await (await h.request('GET', `/api/v1/jobs/${job.id}/report`)).json()) as JobReport,
      (r) => Object.keys(r.targets).length >= 40,
      { what: 'the report with its 40 targets' },
    );
    assert.equal(Object.keys(report.targets).length, 40);
    assert.ok(Object.values(report.targets).every((t) => t.status === 'Success' && t.results.value?.length === 1));

    const listed = (await (await h.request('GET', '/api/v1/jobs?name=TEST_BATCH&page_size=100')).json()) as { job: JobStats }[];
    // (Other tests of this file list TEST_BATCH jobs of their own.)
    assert.equal(listed.filter((j) => j.job.id === job.id).length, 1, 'one execution, not one row per run');

    const metrics = await waitFor(
      async () =>
        (await (await h.app.request('/metrics')).text()).split('\n').filter((l) => l.startsWith('test_batch_value{') && l.includes(job.id)),
      (lines) => lines.length === 40,
      { what: 'all 40 targets on /metrics' },
    );
    assert.equal(metrics.length, 40);

    // Status hooks go on across runs, in order: Running once, then check-ins, then Success last.
    const events = await waitFor(
      async () => hooks.accepted('long'),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the final hook' },
    );
    assert.equal(events.filter((e) => e.status === 'Running' && e.check_in === undefined).length, 1);
    assert.equal(events[events.length - 1]?.status, 'Success');
    // The hook log shows them all, the first run's included (it keeps the newest 100).
    assert.ok(events.length < 100, `${events.length} events`);
    const logged = (
      (await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as { events: { status: string; outcome: string }[] }
    ).events;
    assert.equal(logged.filter((r) => r.outcome === 'delivered').length, events.length);
    assert.equal(logged[0]?.status, 'Running');
  });
  it('a stop that lands while the fan-out hands over to its next run ends it Stopped; no target starts after it', async () => {
    // A slow receiver: the hand-over waits for the hook POST in flight before continuing as new.
    hooks.setDelayMs(4000);
    try {
      const job = await h.submit({
        name: 'TEST_BATCH',
        parameters: { count: 40, pool_size: 4, hold_ms: 1000 },
        status_hook: hooks.url('slow-hand-over'),
        metadata: { kind: 'Generic' },
      });
      const handle = h.client.workflow.getHandle(job.id);
      // Between waves (the hand-over) the execution has no child running; otherwise its pool is full.
      const handingOver = await waitFor(
        () => handle.describe(),
        (d) => d.status.name !== 'RUNNING' || ((d.historyLength ?? 0) >= 150 && (d.raw.pendingChildren?.length ?? 0) === 0),
        { what: 'a hand-over', timeoutMs: 90_000, intervalMs: 30 },
      );
      assert.equal(handingOver.status.name, 'RUNNING', 'the job ended before a hand-over');
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const stoppedAt = Date.now();
      const done = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 120_000);
      let after = 0;
      for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}'` }))
        if (e.startTime.getTime() > stoppedAt + 500) after++;
      assert.equal(done.status, 'Stopped', `the stop answered 204, yet the job ended ${done.status} and started ${after} targets after it`);
      assert.equal(after, 0);
    } finally {
      hooks.setDelayMs(0);
    }
  });

  it('a periodic fan-out that continues as new: history limits count each execution once and never take a kept one', async () => {
    // Every execution continues as new at least once; failed_jobs_history_limit 0 would prune the
    // continued runs if they counted as executions of their own (they are closed and not Success).
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 30, report_history: 10 },
      metadata: {
        kind: 'Periodic',
        cron_spec: '*/15 * * * * *',
        concurrency_policy: 'Forbid',
        successful_jobs_history_limit: 2,
        failed_jobs_history_limit: 0,
      },
    });
    schedules.push(job.id);
    const schedule = h.client.schedule.getHandle(job.id);
    await waitFor(
      () => schedule.describe(),
      (d) => d.info.numActionsTaken >= 2,
      { timeoutMs: 90_000, what: 'two fires' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'pause' })).status, 204);
    const [first, second] = (await schedule.describe()).info.recentActions.slice(-2).map((a) => a.action.workflow.workflowId);
    // The second execution prunes as it ends, before its workflow closes.
    for (const id of [first!, second!]) {
      await waitFor(
        async () => (await h.client.workflow.getHandle(id).describe()).status.name,
        (status) => status === 'COMPLETED',
        { timeoutMs: 60_000, what: `${id} to complete` },
      );
    }
    const runsOfFirst: string[] = [];
    for await (const e of h.client.workflow.list({ query: `WorkflowId = '${first!}'` })) runsOfFirst.push(e.status.name);
    assert.ok(runsOfFirst.includes('CONTINUED_AS_NEW'), `the first execution continued as new: ${JSON.stringify(runsOfFirst)}`);
    // Two successful executions are within the limit of 2: both stay, their last runs included.
    for (const id of [first!, second!]) assert.equal((await h.stats(id)).status, 'Success', `${id} is kept`);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
  });
});
