import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { JobReport } from '../../src/api/contract.js';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { testBatchJob, testBatchTarget } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

type Sample = { labels?: Record<string, string>; value: string };
type Family = { name: string; metrics: Sample[] };

/** A batch job whose targets report, then can record an event and save many files (as the seed's job script: results first). */
const [reviewBatch, reviewBatchTarget] = defineBatchJob({
  name: 'REVIEW_BATCH',
  metricsPrefix: 'review_batch',
  params: z
    .object({
      count: z.number().int().min(0).max(100),
      /** Files (names of 120 characters) each target saves after it reports. */
      files: z.number().int().min(0).max(5000).default(0),
      /** An event each target records after its report. */
      event_message: z.string().optional(),
    })
    .strict(),
  gauges: [{ suffix: 'value', help: 'a value', labels: [] }],
  async listTargets(_ctx, params) {
    return Array.from({ length: params.count }, (_, i) => `t${String(i).padStart(2, '0')}`);
  },
  async runTarget(ctx, params) {
    ctx.report({ value: [{ value: 1, labels: {} }] });
    if (params.event_message !== undefined) ctx.event('Fetched', params.event_message, { warning: true });
    for (let i = 0; i < params.files; i++) await ctx.saveFile(`${String(i).padStart(5, '0')}${'f'.repeat(115)}`, 'x');
  },
});

describe("a batch target's report end to end: its size, its masking, its series across a retry", () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ registry: createJobRegistry([testBatchJob, testBatchTarget, reviewBatch, reviewBatchTarget]) });
  });
  after(async () => {
    await h.close();
  });

  const report = async (id: string) => (await (await h.request('GET', `/api/v1/jobs/${id}/report`)).json()) as JobReport;
  const scrape = async () => parsePrometheusTextFormat(await (await h.app.request('/metrics')).text()) as Family[];
  const samples = (families: Family[], name: string) => families.find((f) => f.name === name)?.metrics ?? [];

  it("file names count toward a target's 64 KiB summary: a target saving 1,100 files after its report fails saying so (its report is not silently lost)", async () => {
    const job = await h.submit({ name: 'REVIEW_BATCH', parameters: { count: 1, files: 1100 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    const r = await waitFor(
      () => report(job.id),
      (x) => Object.values(x.targets).some((t) => !['Pending', 'Running'].includes(t.status)),
      { timeoutMs: 30_000, what: 'the target in the report' },
    );
    const target = r.targets.t00!;
    const error = (await h.stats(target.job_id)).last_error ?? '';
    assert.ok(
      target.status === 'Error' && /at most 65536/.test(error),
      `execution ${done.status}; target ${target.status} (${error || 'no error'}), its report on /report: ` +
        `results ${JSON.stringify(target.results)}, ${target.files.length} files listed`,
    );
  });

  it('an event quoting a URL with a token (an error message) keeps the target’s report, events and files on /report (and so on /metrics)', async () => {
    const message = 'GET "https://registry.example/v2/_catalog?access_token=abc123" answered 401';
    const job = await h.submit({
      name: 'REVIEW_BATCH',
      parameters: { count: 1, files: 1, event_message: message },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const r = await waitFor(
      () => report(job.id),
      (x) => x.targets.t00?.status === 'Success',
      { what: 't00 done in the report' },
    );
    const t = r.targets.t00!;
    assert.deepEqual(
      { value: t.results.value?.[0]?.value, events: t.events.length, files: t.files.length },
      { value: 1, events: 1, files: 1 },
      `target ${t.job_id}'s check-in: ${(await h.stats(t.job_id)).check_in}`,
    );
  });

  it('retry of an execution: the targets that succeeded keep their series (and `latest`) on /metrics while the failed ones run again', async () => {
    // An older execution: every target's series with tag "old".
    const old = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 3, tag: 'old', report_history: 10 },
      metadata: { kind: 'Generic' },
    });
    assert.equal((await h.waitForStatus(old.id, ['Success', 'Error'], 60_000)).status, 'Success');
    // The newer one: t00 and t02 report tag "new"; t01 fails (and will fail again on retry, after holding 12 s).
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 3, tag: 'new', fail: ['t01'], hold_ms: 12_000, report_history: 10 },
      metadata: { kind: 'Generic' },
    });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 90_000)).status, 'Error');
    const latestTagOf = (f: Family[], target: string) =>
      samples(f, 'test_batch_value').find((s) => s.labels?.target === target && s.labels.execution_id === 'latest')?.labels?.tag;
    const hasT00 = (f: Family[]) =>
      samples(f, 'test_batch_value').some((s) => s.labels?.target === 't00' && s.labels.execution_id === job.id);
    await waitFor(scrape, (f) => hasT00(f) && latestTagOf(f, 't00') === 'new', {
      timeoutMs: 90_000,
      what: 'the failed execution’s t00 on /metrics, and as latest',
    });
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs: 90_000, what: 'the workflow to close' },
    );
    const before = await h.stats(job.id);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    const seen: string[] = [];
    // Scrape (each render is kept 2 s) while the retry runs its one target for 12 s.
    await waitFor(
      async () => {
        const s = await h.stats(job.id);
        const f = await scrape();
        if (s.revision > before.revision && s.status === 'Running')
          seen.push(`${hasT00(f) ? 'series' : 'NO series'} of ${job.id} for t00, latest tag ${latestTagOf(f, 't00')}`);
        return s;
      },
      (s) => s.revision > before.revision && ['Success', 'Error'].includes(s.status),
      { timeoutMs: 90_000, intervalMs: 500, what: 'the retry to end' },
    );
    assert.ok(seen.length > 0, 'no scrape while the retry ran');
    const bad = seen.filter((x) => !x.startsWith('series') || !x.endsWith('tag new'));
    assert.equal(bad.length, 0, `${bad.length} of ${seen.length} scrapes during the retry: ${[...new Set(bad)].join('; ')}`);
  });
});
