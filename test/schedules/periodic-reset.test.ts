import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Harness } from '../helpers/harness.js';
import { periodicSuite } from '../helpers/schedules.js';
import { resetWorkflow } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { pruneExecutions } from '../../src/activities/prune-executions.js';
import { BackgroundWork } from '../../src/process/background-work.js';

/** Until the clock reads `time` (ms): triggers that far apart have different execution ids and ends. */
async function until(time: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}

/**
 * An operator's reset (`temporal workflow reset`, the Web UI's Reset) of a periodic job's running
 * execution: its run is replaced by a new one under the same id, and the replaced run (terminated)
 * stays in visibility until the new run has it deleted.
 */
describe('a reset of a running periodic execution', () => {
  let h: Harness;
  const { periodic, executions } = periodicSuite((harness) => (h = harness));
  const act = async (id: string, action: string) => (await h.request('POST', `/api/v1/jobs/${id}`, { action })).status;
  const running = async (periodicId: string, count: number) =>
    waitFor(
      () => executions(periodicId, 'page_size=100'),
      (r) => r.jobs.length === count && r.jobs.every((j) => j.status === 'Running'),
      { what: `${count} execution(s) running`, timeoutMs: 30_000 },
    );

  it('to a point after its run began (a run that does not check in) lists it once, not Running and Stopped side by side', async () => {
    const job = await periodic('@yearly', { suspend: true }, { duration_ms: 30_000 });
    assert.equal(await act(job.id, 'trigger'), 204);
    const id = (await running(job.id, 1)).jobs[0]!.id;
    resetWorkflow(h.config.temporal.address!, id, 'LastWorkflowTask');
    // The replaced run goes as the new run starts the job again, not at its next check-in or end (30 s on).
    const listed = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.total === 1 && r.jobs.length === 1,
      { what: 'the execution listed once', timeoutMs: 15_000 },
    );
    assert.equal(listed.jobs[0]!.id, id);
    assert.equal(listed.jobs[0]!.status, 'Running');
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('the run a reset replaced is no failed execution: failed_jobs_history_limit 0 leaves the running execution and its log alone', async () => {
    const job = await periodic('@yearly', { suspend: true, failed_jobs_history_limit: 0 }, { duration_ms: 12_000 });
    assert.equal(await act(job.id, 'trigger'), 204);
    const a = (await running(job.id, 1)).jobs[0]!.id;
    // B runs as long as A but starts 5 s later, so B is still running when A has ended and been
    // listed, however slowly a loaded machine does that (1 s apart was not enough in CI).
    const aStartedBy = Date.now();
    await until(aStartedBy + 5000);
    assert.equal(await act(job.id, 'trigger'), 204);
    const b = (await running(job.id, 2)).jobs.find((j) => j.id !== a)!.id;
    const logOf = async (id: string) => (await h.request('GET', `/api/v1/jobs/${id}/log`)).status;
    resetWorkflow(h.config.temporal.address!, b, 'LastWorkflowTask');
    // A ends and applies the history limits, while B's replaced run may still be listed.
    await h.waitForStatus(a, ['Success'], 30_000);
    const listed = await waitFor(
      () => executions(job.id, 'page_size=100'),
      (r) => r.jobs.some((j) => j.id === a && j.status === 'Success'),
      { what: 'A listed Success' },
    );
    assert.equal((await h.stats(b)).status, 'Running');
    assert.equal(await logOf(b), 200, `B's log, with executions ${JSON.stringify(listed.jobs.map((j) => [j.id, j.status]))}`);
    assert.equal(await act(job.id, 'stop'), 204);
  });

  it('a pruner that meets the replaced run before the new run has it deleted takes it for no execution (history limit 0 for failures)', async () => {
    const job = await periodic('@yearly', { suspend: true, failed_jobs_history_limit: 0 }, { duration_ms: 60_000 });
    assert.equal(await act(job.id, 'trigger'), 204);
    const b = (await running(job.id, 1)).jobs[0]!.id;
    // No worker to run the new run (which would have the replaced one deleted): the replaced run stays listed.
    await h.stopWorker();
    try {
      const { runId } = await h.client.workflow.getHandle(b).describe();
      resetWorkflow(h.config.temporal.address!, b, 'LastWorkflowTask');
      await waitFor(
        async () => {
          const runs: string[] = [];
          for await (const run of h.client.workflow.list({ query: `WorkflowId = '${b}'` })) runs.push(`${run.runId}:${run.status.name}`);
          return runs;
        },
        (runs) => runs.includes(`${runId}:TERMINATED`) && runs.length === 2,
        { what: 'the replaced run and the new one listed' },
      );
      // Another execution ending applies the limits, as its housekeeping activity does.
      const pruned = await pruneExecutions(
        { client: h.client, background: new BackgroundWork(), logDir: h.logDir },
        {
          upstreamJobId: job.id,
          self: { id: `${job.id}-2026-01-01T00:00:00Z`, startedAt: Date.now(), succeeded: true },
          limits: { successful: 3, failed: 0 },
        },
      );
      assert.deepEqual(pruned, []);
      assert.equal((await h.client.workflow.getHandle(b, runId).describe()).status.name, 'TERMINATED', 'the replaced run is still there');
      assert.equal((await h.request('GET', `/api/v1/jobs/${b}/log`)).status, 200, "the execution's log");
    } finally {
      await h.startWorker();
    }
    assert.equal(await act(job.id, 'stop'), 204);
  });
});
