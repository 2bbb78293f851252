import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { noopJob } from '../../src/jobs/noop-job.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { testBatchJob, testBatchTarget } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';
import { periodicExecutionsQuery } from '../../src/shared/search-attributes.js';

/**
 * A batch job whose first execution of each periodic job is slow (its targets hold `slow_ms`) and
 * whose later ones are quick: with the same parameters, as every fire of one periodic job has, an
 * early fire outlasts the later one that overlaps it.
 */
const firstExecutionOf = new Map<string, string>();
const [slowFirstBatch, slowFirstTarget] = defineBatchJob({
  name: 'SLOW_FIRST_BATCH',
  metricsPrefix: 'slow_first_batch',
  params: z.object({ count: z.number().int().min(1).max(50), slow_ms: z.number().int().min(0) }).strict(),
  gauges: [{ suffix: 'value', help: 'a value', labels: [] }],
  async listTargets(_ctx, params) {
    return Array.from({ length: params.count }, (_, i) => `t${String(i).padStart(2, '0')}`);
  },
  async runTarget(ctx, params) {
    const periodic = ctx.executionId.slice(0, 24);
    if (!firstExecutionOf.has(periodic)) firstExecutionOf.set(periodic, ctx.executionId);
    await ctx.sleep(firstExecutionOf.get(periodic) === ctx.executionId ? params.slow_ms : 0);
    ctx.report({ value: [{ value: 1, labels: {} }] });
  },
});

const PRUNERS = new Set(['pruneBatchExecutions', 'pruneExecutions']);

describe("a periodic job's executions: which ones its history limits and report history keep", () => {
  let h: Harness;
  const schedules: string[] = [];
  before(async () => {
    h = await createHarness({
      // A fan-out of 30 targets continues as new along the way.
      config: testConfig({ job: { fan_out_history_events: 150 } }),
      registry: createJobRegistry([noopJob, testBatchJob, testBatchTarget, slowFirstBatch, slowFirstTarget]),
    });
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
  });

  const submit = async (name: string, parameters: Record<string, unknown>, metadata: Record<string, unknown>) => {
    const job = await h.submit({ name, parameters, metadata: { kind: 'Periodic', cron_spec: '@yearly', ...metadata } });
    schedules.push(job.id);
    return job.id;
  };
  const trigger = async (id: string) => {
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'trigger' })).status, 204);
    return (await h.client.schedule.getHandle(id).describe()).info.recentActions.at(-1)!.action.workflow.workflowId;
  };
  /** Closed: its wrap-up, pruning included, is done. */
  const closed = (execution: string, timeoutMs = 60_000) =>
    waitFor(
      async () => (await h.client.workflow.getHandle(execution).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs, what: `${execution} to close` },
    );
  /** What the pruners of these executions deleted, as their activities' results recorded it. */
  const pruned = async (executions: string[]) => {
    const deleted: string[] = [];
    for (const id of executions) {
      const history = await h.client.workflow
        .getHandle(id)
        .fetchHistory()
        .catch(() => undefined);
      const events = history?.events ?? [];
      const pruners = new Set(
        events.filter((e) => PRUNERS.has(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')).map((e) => String(e.eventId)),
      );
      for (const e of events) {
        const done = e.activityTaskCompletedEventAttributes;
        if (!done || !pruners.has(String(done.scheduledEventId))) continue;
        for (const p of done.result?.payloads ?? []) deleted.push(...(JSON.parse(Buffer.from(p.data!).toString()) as string[]));
      }
    }
    // Both pruners of one ending may take the same execution (a delete of a deleted one is fine).
    return [...new Set(deleted)].sort();
  };
  const kept = async (id: string, expected: string[]) =>
    waitFor(
      async () => {
        const response = await h.request('GET', `/api/v1/jobs/${id}/executions?page_size=100`);
        return ((await response.json()) as { job: JobStats }[]).map((r) => r.job.id).sort();
      },
      (ids) => JSON.stringify(ids) === JSON.stringify([...expected].sort()),
      { timeoutMs: 30_000, what: `the executions of ${id} to be ${expected.join(', ')}` },
    );

  it('pause_after_failures: 5 pauses a periodic batch job after 5 failures in a row, whatever its report_history (3 by default)', async () => {
    const id = await submit('TEST_BATCH', { count: 1, fail: ['t00'] }, { pause_after_failures: 5 });
    const executions: string[] = [];
    for (let i = 0; i < 5; i++) {
      executions.push(await trigger(id));
      await closed(executions.at(-1)!);
    }
    assert.deepEqual(await pruned(executions), [], 'the report history deleted part of the streak');
    const stats = await waitFor(
      () => h.stats(id),
      (s) => s.paused === true,
      { what: 'the schedule paused after 5 failures in a row' },
    );
    assert.match(stats.paused_note ?? '', /paused after 5 failed executions in a row/);
  });

  it('failed_jobs_history_limit: 5 keeps 5 failed executions of a periodic batch job, beyond its report_history', async () => {
    const id = await submit('TEST_BATCH', { count: 1, fail: ['t00'] }, { failed_jobs_history_limit: 5 });
    const executions: string[] = [];
    for (let i = 0; i < 6; i++) {
      executions.push(await trigger(id));
      await closed(executions.at(-1)!);
    }
    assert.deepEqual(await pruned(executions), [executions[0]]);
    await kept(id, executions.slice(1));
  });

  it('report_history keeps the newest fires when an early fire outlasts a later one, and agrees with the history limit', async () => {
    for (const metadata of [{}, { successful_jobs_history_limit: 2 }]) {
      const id = await submit('SLOW_FIRST_BATCH', { count: 1, slow_ms: 6000, report_history: 2 }, metadata);
      const e1 = await trigger(id);
      const e2 = await trigger(id);
      await closed(e2);
      await closed(e1);
      const e3 = await trigger(id);
      await closed(e3);
      assert.equal(firstExecutionOf.get(id), e1, 'the first fire was the slow one');
      assert.deepEqual(
        await pruned([e1, e2, e3]),
        [e1],
        `${JSON.stringify(metadata)}: the oldest fire goes, not the one that closed first`,
      );
      await kept(id, [e2, e3]);
    }
  });

  it('successful_jobs_history_limit: 1 deletes an older fire that ended after a newer one as it closes, not a fire later', async () => {
    // Long enough that the newer fire has closed when the older one ends, on a loaded machine too
    // (two executions ending at once do not see each other closed).
    const id = await submit('SLOW_FIRST_BATCH', { count: 1, slow_ms: 20_000, report_history: 100 }, { successful_jobs_history_limit: 1 });
    const e1 = await trigger(id);
    const e2 = await trigger(id);
    await closed(e2);
    await closed(e1);
    assert.equal(firstExecutionOf.get(id), e1, 'the first fire was the slow one');
    // As Kubernetes' controller deletes the oldest finished Jobs beyond the limit on its next sync;
    // with no later fire (a @yearly job) e1 would otherwise stay a year.
    await kept(id, [e2]);
  });

  it('successful_jobs_history_limit ranks a fire that continued as new by its fire, not by its last run', async () => {
    // 50 targets five at a time: a child alone adds three events, so the history passes 150 (and
    // the fire continues as new) before the last wave, however a loaded worker batches its tasks.
    // 30 ten at a time did not, once, with three test files at a time.
    const id = await submit(
      'SLOW_FIRST_BATCH',
      { count: 50, slow_ms: 1500, pool_size: 5, report_history: 100 },
      { successful_jobs_history_limit: 2 },
    );
    const e1 = await trigger(id);
    const e2 = await trigger(id);
    await closed(e2, 90_000);
    await closed(e1, 90_000);
    const runs: string[] = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${e1}'` })) runs.push(run.status.name);
    assert.ok(runs.includes('CONTINUED_AS_NEW'), `the first fire continued as new: ${runs.join(', ')}`);
    const e3 = await trigger(id);
    await closed(e3, 90_000);
    assert.deepEqual(await pruned([e1, e2, e3]), [e1]);
    await kept(id, [e2, e3]);
  });

  it('successful_jobs_history_limit: 1 deletes an earlier execution that visibility does not list yet', async () => {
    const id = await submit('NOOP', {}, { successful_jobs_history_limit: 1 });
    const e1 = await trigger(id);
    await closed(e1);
    // Visibility trails the server (by seconds on a loaded one): here it has not caught up with e1
    // when e2 prunes. Were e2 the last fire (the schedule paused), no later one would delete e1.
    const service = h.client.workflowService;
    const list = service.listWorkflowExecutions;
    service.listWorkflowExecutions = (async (request) => {
      const response = await list.call(service, request);
      if (request.query !== periodicExecutionsQuery(id)) return response;
      return { ...response, executions: response.executions.filter((e) => e.execution?.workflowId !== e1) };
    }) as typeof list;
    let e2: string;
    try {
      e2 = await trigger(id);
      await closed(e2);
      assert.deepEqual(await pruned([e2]), [e1]);
    } finally {
      service.listWorkflowExecutions = list;
    }
    await kept(id, [e2]);
  });

  it('successful_jobs_history_limit: 0 keeps no finished execution: the one ending goes once it has closed (seed 003)', async () => {
    const id = await submit('NOOP', {}, { successful_jobs_history_limit: 0 });
    const execution = await trigger(id);
    await closed(execution);
    const gone = await waitFor(
      () =>
        h.client.workflow
          .getHandle(execution)
          .describe()
          .then(
            () => false,
            () => true,
          ),
      (deleted) => deleted,
      { what: `${execution} to be deleted after it closed` },
    );
    assert.ok(gone);
    await kept(id, []);
  });
});
