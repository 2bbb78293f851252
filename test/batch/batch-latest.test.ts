import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { JobReport } from '../../src/api/contract.js';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

type Sample = { labels?: Record<string, string>; value: string };
type Family = { name: string; metrics: Sample[] };

/**
 * How the next target runs behave (the worker runs in this process): `ok` reports; `report-then-fail`
 * reports, then fails (a file it could not save, a late error: its report stays, as a pod's POSTed
 * results stay with batch-job-controller whatever the pod's exit); `fail-early` fails before it reports.
 */
let mode: 'ok' | 'report-then-fail' | 'fail-early' = 'ok';

const [flakyBatch, flakyBatchTarget] = defineBatchJob({
  name: 'REVIEW_FLAKY',
  metricsPrefix: 'review_flaky',
  params: z.object({ count: z.number().int().min(1).max(10), tag: z.string() }).strict(),
  gauges: [{ suffix: 'value', help: 'a value', labels: ['tag'] }],
  async listTargets(_ctx, params) {
    return Array.from({ length: params.count }, (_, i) => `t${String(i).padStart(2, '0')}`);
  },
  async runTarget(ctx, params) {
    if (mode === 'fail-early') throw new Error(`${ctx.target} fails before it reports`);
    ctx.report({ value: [{ value: 1, labels: { tag: params.tag } }] });
    if (mode === 'report-then-fail') throw new Error(`${ctx.target} fails after it reported`);
  },
});

describe('a retried execution and execution_id="latest"', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ registry: createJobRegistry([flakyBatch, flakyBatchTarget]) });
  });
  after(async () => {
    await h.close();
  });

  const scrape = async () => parsePrometheusTextFormat(await (await h.app.request('/metrics')).text()) as Family[];
  const series = (f: Family[]) => f.find((x) => x.name === 'review_flaky_value')?.metrics ?? [];
  const tagOf = (f: Family[], executionId: string) =>
    series(f).find((s) => s.labels?.target === 't00' && s.labels.execution_id === executionId)?.labels?.tag;
  const closed = (id: string) =>
    waitFor(
      async () => (await h.client.workflow.getHandle(id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs: 60_000, what: `${id}'s workflow to close` },
    );

  it("a retry whose target fails before reporting leaves that target's latest as it was (the newest report), not an older execution's", async () => {
    // A: t00 reports tag A.
    mode = 'ok';
    const a = await h.submit({
      name: 'REVIEW_FLAKY',
      parameters: { count: 1, tag: 'A', report_history: 10 },
      metadata: { kind: 'Generic' },
    });
    assert.equal((await h.waitForStatus(a.id, ['Success', 'Error'], 60_000)).status, 'Success');
    await closed(a.id);

    // B, later: t00 reports tag B, then fails. Its report is the target's newest: latest says B.
    mode = 'report-then-fail';
    const b = await h.submit({
      name: 'REVIEW_FLAKY',
      parameters: { count: 1, tag: 'B', report_history: 10 },
      metadata: { kind: 'Generic' },
    });
    const failed = await h.waitForStatus(b.id, ['Success', 'Error'], 60_000);
    assert.equal(failed.status, 'Error');
    await closed(b.id);
    await waitFor(scrape, (f) => tagOf(f, 'latest') === 'B' && tagOf(f, b.id) === 'B', {
      timeoutMs: 60_000,
      what: "B's report of t00 on /metrics, as latest too",
    });

    // Retry B: t00 runs again and fails before it reports anything.
    mode = 'fail-early';
    assert.equal((await h.request('POST', `/api/v1/jobs/${b.id}`, { action: 'retry' })).status, 204);
    const retried = await waitFor(
      () => h.stats(b.id),
      (s) => s.revision > failed.revision && ['Success', 'Error'].includes(s.status),
      { timeoutMs: 60_000, what: 'the retry to end' },
    );
    assert.equal(retried.status, 'Error');
    await closed(b.id);
    // Let visibility settle on the retried target's close.
    await waitFor(
      async () => ((await (await h.request('GET', `/api/v1/jobs/${b.id}/report`)).json()) as JobReport).targets.t00?.status,
      (s) => s === 'Error',
      { what: 'the retried t00 closed in the report' },
    );
    // A render made after the retry ended: B's own series of t00 is its newest run's, which reported nothing.
    const f = await waitFor(scrape, (families) => tagOf(families, b.id) === undefined, { what: "a render without B's own t00 series" });
    const report = (await (await h.request('GET', `/api/v1/jobs/${b.id}/report`)).json()) as JobReport;
    // docs/batch-jobs.md: latest is "newest by when the target ran"; "an execution stopped or failed
    // before a target reported leaves that target's latest as it was". B's t00 reported B after A's did.
    assert.equal(
      tagOf(f, 'latest'),
      'B',
      `after the retry of ${b.id} (whose t00 ran again and reported nothing), /metrics shows t00's latest as ${tagOf(f, 'latest')} ` +
        `(A is ${a.id}, the older execution) and ${b.id}'s own series of t00 ${tagOf(f, b.id) === undefined ? 'is gone' : 'is ' + tagOf(f, b.id)}; ` +
        `/report of ${b.id} shows t00 results ${JSON.stringify(report.targets.t00?.results)}`,
    );
  });
});
