/**
 * `npm run test:scale`: a batch of 10,000 targets runs to the end within Temporal's history limits
 * (it continues as new between waves of children), and every view shows all of it. Minutes long
 * on 2 cores, so it is not part of `npm test`; batch-continue-as-new.test.ts runs the same path
 * small inside it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobReport } from '../../src/api/contract.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

const TARGETS = Number(process.env.SCALE_TARGETS ?? 10_000);
const HISTORY_LIMIT_BYTES = 50 * 1024 * 1024;

describe(`a batch of ${TARGETS} targets`, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  it('runs every target once, continuing as new, each run far below the history limits', async () => {
    const started = Date.now();
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: TARGETS, pool_size: 50, report_history: 1 },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 3_600_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(JSON.parse(done.check_in!), { done: TARGETS, targets: TARGETS, failed: 0, running: 0 });

    const runs: { runId: string; status: string }[] = [];
    for await (const e of h.client.workflow.list({ query: `WorkflowId = '${job.id}'` }))
      runs.push({ runId: e.runId, status: e.status.name });
    let largest = 0;
    let events = 0;
    for (const run of runs) {
      const raw = await h.client.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: job.id, runId: run.runId },
      });
      largest = Math.max(largest, Number(raw.workflowExecutionInfo?.historySizeBytes ?? 0));
      events = Math.max(events, Number(raw.workflowExecutionInfo?.historyLength ?? 0));
    }
    assert.ok(largest < HISTORY_LIMIT_BYTES / 5, `a run's history reached ${largest} bytes`);
    assert.ok(events < 20_000, `a run's history reached ${events} events`);

    const children = await h.client.workflow.count(`UpstreamJobId = '${job.id}'`);
    assert.equal(children.count, TARGETS, 'each target ran once');
    const report = (await (await h.request('GET', `/api/v1/jobs/${job.id}/report`)).json()) as JobReport;
    assert.equal(Object.keys(report.targets).length, TARGETS);
    const metrics = await waitFor(
      async () =>
        (await (await h.app.request('/metrics')).text()).split('\n').filter((l) => l.startsWith('test_batch_value{') && l.includes(job.id))
          .length,
      (n) => n === TARGETS,
      { timeoutMs: 120_000, what: 'every target on /metrics' },
    );
    console.log(
      JSON.stringify({
        targets: TARGETS,
        runs: runs.length,
        wall_s: (Date.now() - started) / 1000,
        largest_run_history_bytes: largest,
        largest_run_history_events: events,
        metrics_samples: metrics,
      }),
    );
  });
});
