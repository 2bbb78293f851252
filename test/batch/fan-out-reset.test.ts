import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { resetWorkflow } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait-for.js';

interface Child {
  id: string;
  status: string;
  start: number;
  close?: number;
}

/**
 * An operator's reset of a fan-out job (TEST_BATCH) while its targets run (`temporal workflow
 * reset`, the Web UI's Reset): the new run plans and starts the targets again, and the targets the
 * replaced run started (which outlive it) are stopped first, never run beside the new ones.
 */
describe('a reset of a running fan-out job', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  const children = async (id: string, extra = ''): Promise<Child[]> => {
    const rows: Child[] = [];
    for await (const c of h.client.workflow.list({ query: `UpstreamJobId = '${id}'${extra}` }))
      rows.push({
        id: c.workflowId,
        status: c.status.name,
        start: c.startTime.getTime(),
        ...(c.closeTime ? { close: c.closeTime.getTime() } : {}),
      });
    return rows;
  };
  const targetOf = async (child: string) => String(((await h.stats(child)).parameters as Record<string, unknown>).target);
  /** A fan-out job of two targets (6 s each), once both run. */
  const withTargetsRunning = async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 2, hold_ms: 6_000, pool_size: 2 },
      metadata: { kind: 'Generic' },
    });
    const first = await waitFor(
      () => children(job.id, ` AND ExecutionStatus = 'Running'`),
      (r) => r.length === 2,
      { what: 'both targets running', timeoutMs: 30_000 },
    );
    return { job, first };
  };

  it('stops the targets the replaced run started before it starts its own: each target runs once at a time, and the report names the new ones', async () => {
    const { job, first } = await withTargetsRunning();
    resetWorkflow(h.config.temporal.address!, job.id);
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const all = await waitFor(
      () => children(job.id),
      (r) => r.length === 4 && r.every((c) => c.status !== 'RUNNING'),
      { what: 'both runs’ targets closed', timeoutMs: 30_000 },
    );
    const replaced = all.filter((c) => first.some((f) => f.id === c.id));
    const fresh = all.filter((c) => !first.some((f) => f.id === c.id));
    for (const old of replaced) {
      assert.equal((await h.stats(old.id)).status, 'Stopped', `the replaced run's target ${old.id}`);
      const again = await Promise.all(fresh.map(async (c) => ((await targetOf(c.id)) === (await targetOf(old.id)) ? c : undefined)));
      const next = again.find((c) => c !== undefined);
      assert.ok(next, `the re-run ran target ${await targetOf(old.id)}`);
      assert.ok(old.close! <= next.start, `the replaced run's ${old.id} closed before the re-run's ${next.id} started`);
    }
    const report = (await (await h.request('GET', `/api/v1/jobs/${job.id}/report`)).json()) as {
      targets: Record<string, { job_id: string; status: string }>;
    };
    assert.deepEqual(
      Object.values(report.targets).map((t) => t.status),
      ['Success', 'Success'],
    );
    assert.deepEqual(
      Object.values(report.targets)
        .map((t) => t.job_id)
        .sort(),
      fresh.map((c) => c.id).sort(),
    );
    const stats: JobStats = await h.stats(job.id);
    assert.deepEqual([...(stats.sub_jobs ?? [])].sort(), fresh.map((c) => c.id).sort());
  });

  it('to its last workflow task, with its targets running: the targets report to the re-run, each ran once, and the job ends Success', async () => {
    const { job, first } = await withTargetsRunning();
    // The last workflow task must be one that saw both targets start, or the reset point lies
    // before their starts and the re-run starts them again (the case above).
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).fetchHistory()).events ?? [],
      (events) => {
        const started = events.map((e) => Boolean(e.childWorkflowExecutionStartedEventAttributes)).lastIndexOf(true);
        const completed = events.map((e) => Boolean(e.workflowTaskCompletedEventAttributes)).lastIndexOf(true);
        return events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).length === 2 && completed > started;
      },
      { what: 'a workflow task after both targets started' },
    );
    resetWorkflow(h.config.temporal.address!, job.id, 'LastWorkflowTask');
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const all = await children(job.id);
    assert.deepEqual(all.map((c) => c.id).sort(), first.map((c) => c.id).sort(), 'no target started again');
    const report = (await (await h.request('GET', `/api/v1/jobs/${job.id}/report`)).json()) as {
      targets: Record<string, { job_id: string; status: string }>;
    };
    assert.deepEqual(
      Object.values(report.targets)
        .map((t) => [t.job_id, t.status])
        .sort(),
      first.map((c) => [c.id, 'Success']).sort(),
    );
  });
});
