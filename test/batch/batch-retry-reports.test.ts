import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import type { JobReport } from '../../src/api/contract.js';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/** Targets named here fail (the worker runs in this process): a host down, then back for the retry. */
let down = new Set<string>();

/** Each target reports one series whose label is `size` characters: a report within the documented 64 KiB. */
const [bigBatch, bigBatchTarget] = defineBatchJob({
  name: 'REVIEW_BIG',
  metricsPrefix: 'review_big',
  params: z.object({ count: z.number().int().min(1).max(100), size: z.number().int().min(0).max(60_000) }).strict(),
  gauges: [{ suffix: 'value', help: 'a value', labels: ['detail'] }],
  async listTargets(_ctx, params) {
    return Array.from({ length: params.count }, (_, i) => `t${String(i).padStart(2, '0')}`);
  },
  async runTarget(ctx, params) {
    if (down.has(ctx.target)) throw new Error(`${ctx.target} is down`);
    ctx.report({ value: [{ value: 1, labels: { detail: 'd'.repeat(params.size) } }] });
  },
});

/**
 * A retry carried each kept target's whole summary (its report, events and files) into the new
 * run's start and memo: past Temporal's 2 MB the start was refused, and the retry answered 503.
 */
describe('retry of a batch execution whose targets reported sizable reports', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ registry: createJobRegistry([bigBatch, bigBatchTarget]) });
  });
  after(async () => {
    await h.close();
  });

  const report = async (id: string) => (await (await h.request('GET', `/api/v1/jobs/${id}/report`)).json()) as JobReport;

  it("after a retry, the targets kept from before are job id and status in the execution's results, their reports staying with their jobs (docs/batch-jobs.md)", async () => {
    down = new Set(['t00']);
    const job = await h.submit({ name: 'REVIEW_BIG', parameters: { count: 3, size: 1000 }, metadata: { kind: 'Generic' } });
    const failed = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(failed.status, 'Error');
    // As the execution ends, each target is its job id and status (a batch target's summary has no counts).
    assert.deepEqual(Object.keys(failed.results?.t01 ?? {}).sort(), ['job_id', 'status']);
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs: 60_000, what: 'the workflow to close' },
    );
    down = new Set();
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    const retried = await waitFor(
      () => h.stats(job.id),
      (s) => s.revision > failed.revision && ['Success', 'Error'].includes(s.status),
      { timeoutMs: 60_000, what: 'the retry to end' },
    );
    assert.equal(retried.status, 'Success');
    const kept = retried.results?.t01 as Record<string, unknown> | undefined;
    assert.deepEqual(
      Object.keys(kept ?? {}).sort(),
      ['job_id', 'status'],
      `t01 (kept from before the retry) in the execution's results: ${JSON.stringify(kept).slice(0, 300)}…`,
    );
  });

  for (const [count, size] of [[60, 50_000]] as const) {
    it(`${count} targets of ${size / 1000} KB reports, one failed: retry runs only it, and the job ends Success with every report kept`, async () => {
      down = new Set(['t00']);
      const job = await h.submit({ name: 'REVIEW_BIG', parameters: { count, size, pool_size: 8 }, metadata: { kind: 'Generic' } });
      const failed = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 120_000);
      // The execution itself copes (docs: its results keep each target's job id and status, its report stays with the target's job).
      assert.equal(failed.status, 'Error', failed.last_error);
      assert.match(failed.last_error ?? '', /1 of \d+ targets did not succeed: t00/);
      await waitFor(
        async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
        (s) => s !== 'RUNNING',
        { timeoutMs: 60_000, what: 'the workflow to close' },
      );
      await waitFor(
        () => report(job.id),
        (r) => Object.keys(r.targets).length === count && Object.values(r.targets).every((t) => ['Success', 'Error'].includes(t.status)),
        { timeoutMs: 30_000, what: 'every target in the report' },
      );

      // t00 is back: the retry should run it alone and end Success.
      down = new Set();
      const response = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' });
      assert.equal(response.status, 204, `retry answered ${response.status}: ${await response.text()}`);
      const retried = await waitFor(
        () => h.stats(job.id),
        (s) => s.revision > failed.revision && ['Success', 'Error', 'Stopped'].includes(s.status),
        { timeoutMs: 120_000, what: 'the retry to end' },
      );
      const description = await waitFor(
        () => h.client.workflow.getHandle(job.id).describe(),
        (d) => d.status.name !== 'RUNNING',
        { timeoutMs: 60_000, what: 'the retried workflow to close' },
      );
      assert.deepEqual(
        { status: retried.status, workflow: description.status.name, ran: retried.sub_jobs?.length },
        { status: 'Success', workflow: 'COMPLETED', ran: 1 },
        `last_error: ${retried.last_error}`,
      );
    });
  }
});
