import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { executionAlias } from '../../src/shared/job-id.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * An execution of a periodic job is every run of its id: the one the schedule started, a retry's
 * new run (a plain start), and a fan-out execution's run that continued as new. Only the first
 * carries Temporal's `TemporalScheduledById`; the job's own search attributes are on all of them.
 */
describe('executions of a periodic job, whatever run they are on', () => {
  let h: Harness;
  const schedules: string[] = [];
  before(async () => {
    h = await createHarness({ config: testConfig({ job: { fan_out_history_events: 150, hook_drain_ms: 60_000 } }) });
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
  });
  const executions = async (id: string, query = '') => {
    const response = await h.request('GET', `/api/v1/jobs/${id}/executions?page_size=100${query}`);
    assert.equal(response.status, 200);
    const rows = ((await response.json()) as { job: JobStats }[]).map((i) => [i.job.id, i.job.status]);
    return { total: Number(response.headers.get('total-count')), rows };
  };
  const fireOnce = async (name: string, parameters: Record<string, unknown>, statusHook?: string) => {
    const job = await h.submit({
      name,
      parameters,
      metadata: { kind: 'Periodic', cron_spec: '@yearly', suspend: true },
      ...(statusHook ? { status_hook: statusHook } : {}),
    });
    schedules.push(job.id);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
    const schedule = h.client.schedule.getHandle(job.id);
    const fired = await waitFor(
      async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId,
      (id) => id !== undefined,
      { what: 'the trigger’s execution' },
    );
    return { periodic: job.id, execution: fired! };
  };

  it("names its executions in its stats, as the seed README's Job Execution has them: multiple_executions and executions, newest first", async () => {
    const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '@yearly', suspend: true } });
    schedules.push(job.id);
    assert.equal(job.multiple_executions, true);
    assert.equal(job.executions, undefined, 'none yet');
    const fired: string[] = [];
    for (let i = 0; i < 2; i++) {
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      const stats = await waitFor(
        () => h.stats(job.id),
        (s) => (s.executions?.length ?? 0) === i + 1,
        { what: `execution ${i + 1} in the stats` },
      );
      fired.unshift(stats.executions![0]!);
      assert.deepEqual(stats.executions, fired);
    }
    await waitFor(
      () => executions(job.id),
      (e) => e.total === 2 && e.rows.every(([, status]) => status === 'Success'),
      { what: 'both executions listed, Success' },
    );
    assert.deepEqual((await executions(job.id)).rows.map(([id]) => id).sort(), [...fired].sort());
    // A list row says it has executions; which are still there only GET reads.
    const listed = await h.request('GET', '/api/v1/jobs?kind=Periodic&page_size=100');
    const row = ((await listed.json()) as { job: JobStats }[]).find((j) => j.job.id === job.id)?.job;
    assert.equal(row?.multiple_executions, true);
  });

  it('names only executions still there: none that a history limit pruned', async () => {
    const job = await h.submit({
      name: 'NOOP',
      parameters: {},
      metadata: { kind: 'Periodic', cron_spec: '@yearly', suspend: true, successful_jobs_history_limit: 1 },
    });
    schedules.push(job.id);
    for (let i = 1; i <= 3; i++) {
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
      await waitFor(
        async () => (await h.client.schedule.getHandle(job.id).describe()).info.recentActions.length,
        (n) => n === i,
        { what: `fire ${i}` },
      );
    }
    const kept = await waitFor(
      () => executions(job.id),
      (e) => e.total === 1 && e.rows[0]?.[1] === 'Success',
      { timeoutMs: 60_000, what: 'the history limit to keep one execution' },
    );
    assert.deepEqual((await h.stats(job.id)).executions, [kept.rows[0]![0]]);
  });

  it('a fan-out execution that continued as new is listed once, as GET reads it, and counts as the last success', async () => {
    const { periodic, execution } = await fireOnce('TEST_BATCH', { count: 30 });
    await waitFor(
      async () => (await h.client.workflow.getHandle(execution).describe()).status.name,
      (s) => s === 'COMPLETED',
      { what: 'the execution to complete', timeoutMs: 90_000 },
    );
    let continued = 0;
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${execution}'` }))
      if (run.status.name === 'CONTINUED_AS_NEW') continued++;
    assert.ok(continued > 0, 'the execution continued as new');
    assert.equal((await h.stats(execution)).status, 'Success');
    const listed = await waitFor(
      () => executions(periodic),
      (e) => e.total === 1 && e.rows[0]?.[1] === 'Success',
      { what: 'one execution, Success' },
    );
    assert.deepEqual(listed.rows, [[execution, 'Success']]);
    assert.equal((await executions(periodic, '&non_dead_only=true')).total, 0);
    const stats = await h.stats(periodic);
    assert.equal(stats.active, 0);
    assert.ok(stats.last_successful_time !== undefined, 'the execution is the periodic job’s last success');
  });

  it('a retried execution stays an execution of its periodic job', async () => {
    const { periodic, execution } = await fireOnce('TEST_FAIL', { message: 'fails on purpose' });
    await h.waitForStatus(execution, ['Error']);
    await waitFor(
      () => executions(periodic),
      (e) => e.total === 1 && e.rows[0]?.[1] === 'Error',
      { what: 'the failed execution listed' },
    );
    assert.equal(await h.stats(periodic).then((s) => s.consecutive_failures), 1);
    const { runId: before } = await h.client.workflow.getHandle(execution).describe();
    assert.equal((await h.request('POST', `/api/v1/jobs/${executionAlias(execution)}`, { action: 'retry' })).status, 204);
    await waitFor(
      async () => h.client.workflow.getHandle(execution).describe(),
      (d) => d.runId !== before && d.status.name !== 'RUNNING',
      { what: 'the retry to end' },
    );
    const listed = await waitFor(
      () => executions(periodic),
      (e) => e.total === 1 && e.rows.length === 1,
      { what: 'the retried execution listed' },
    );
    assert.deepEqual(listed.rows, [[execution, 'Error']]);
    assert.equal((await h.stats(periodic)).consecutive_failures, 1, 'the retry is the same execution, not another failure');
  });

  it('a finished execution still delivering its last hooks is neither active nor listed by non_dead_only', async () => {
    const { periodic, execution } = await fireOnce('NOOP', {}, 'http://127.0.0.1:1/never');
    await h.waitForStatus(execution, ['Success']);
    assert.equal((await h.client.workflow.getHandle(execution).describe()).status.name, 'RUNNING', 'its workflow drains its hooks');
    await waitFor(
      () => executions(periodic),
      (e) => e.total === 1,
      { what: 'the execution listed' },
    );
    assert.equal((await h.stats(periodic)).active, 0);
    assert.deepEqual(await executions(periodic, '&non_dead_only=true'), { total: 0, rows: [] });
    await h.client.workflow.getHandle(execution).terminate('test over');
  });

  it('Forbid: a finished execution whose hooks fail hands them over at once and does not hold back the next fire', async () => {
    const job = await h.submit({
      name: 'NOOP',
      parameters: {},
      status_hook: 'http://127.0.0.1:1/never',
      metadata: { kind: 'Periodic', cron_spec: '*/2 * * * * *', concurrency_policy: 'Forbid' },
    });
    schedules.push(job.id);
    // With the hooks' drain (60 s here) every fire after the first would be skipped.
    await waitFor(
      () => executions(job.id),
      (e) => e.total >= 3,
      { what: 'three executions', timeoutMs: 30_000 },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    for await (const w of h.client.workflow.list({
      query: `WorkflowType = 'HookDelivery' AND WorkflowId STARTS_WITH '${job.id}' AND ExecutionStatus = 'Running'`,
    }))
      await h.client.workflow.getHandle(w.workflowId).terminate('test over');
  });
});
