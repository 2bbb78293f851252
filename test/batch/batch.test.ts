import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { JobReport } from '../../src/api/contract.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { addTag, pushImage, pushIndex, startRegistry, startRegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait-for.js';
import { renderBatchMetrics } from '../../src/api/batch-metrics.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { testBatchJob } from '../helpers/test-jobs.js';

type Sample = { labels?: Record<string, string>; value: string };
type Family = { name: string; metrics: Sample[] };

/** The statuses of a job that has not ended. */
const UNFINISHED = ['Pending', 'Scheduled', 'Running'];

describe('batch jobs: one child job per target, a pool, reports as Prometheus gauges', () => {
  let h: Harness;
  let registry: TestRegistry;
  before(async () => {
    h = await createHarness();
    registry = await startRegistry();
  });
  after(async () => {
    await h.close();
    await registry.stop();
  });

  const batch = (parameters: Record<string, unknown>) => h.submit({ name: 'TEST_BATCH', parameters, metadata: { kind: 'Generic' } });
  const report = async (id: string) => (await (await h.request('GET', `/api/v1/jobs/${id}/report`)).json()) as JobReport;
  /**
   * A finished job's report once it shows every target its own state counts, each finished: the
   * report reads the children from visibility, which can learn of the last one's close after the job.
   */
  const settledReport = async (id: string) => {
    const expected = Object.keys((await h.stats(id)).results ?? {}).length;
    assert.ok(expected > 0, `${id} counts no targets`);
    return waitFor(
      () => report(id),
      (r) => Object.keys(r.targets).length === expected && Object.values(r.targets).every((t) => !UNFINISHED.includes(t.status)),
      { what: `the report of ${id} with its ${expected} targets finished` },
    );
  };
  const scrape = async () => {
    // Open, like /stats: no Harbor-Secret.
    const response = await h.app.request('/metrics');
    assert.equal(response.status, 200);
    return parsePrometheusTextFormat(await response.text()) as Family[];
  };
  const samples = (families: Family[], name: string) => families.find((f) => f.name === name)?.metrics ?? [];

  it('runs 30 targets never more than pool_size at once, and every result reaches /metrics, /report and /files', async () => {
    const job = await batch({ count: 30, hold_ms: 150, pool_size: 4, report_history: 10, tag: 'first' });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 90_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(JSON.parse(done.check_in!), { done: 30, targets: 30, failed: 0, running: 0 });

    // Read once, as a client would right after the job's Success: every target it shows has ended
    // (visibility may still hold a target as running; the report reads that one from Temporal).
    const atOnce = await report(job.id);
    for (const [target, t] of Object.entries(atOnce.targets)) assert.ok(!UNFINISHED.includes(t.status), `${target}: ${t.status}`);
    const r = await settledReport(job.id);
    assert.equal(Object.keys(r.targets).length, 30);
    const spans = Object.values(r.targets).map((t) => {
      assert.equal(t.status, 'Success');
      assert.deepEqual(t.files, ['result.txt']);
      assert.equal(t.events[0]?.reason, 'TargetDone');
      assert.match(t.events[0]?.message ?? '', /^target t\d\d done$/, 'the args filled the message');
      return [t.results.started_ms![0]!.value, t.results.ended_ms![0]!.value] as const;
    });
    const edges = spans.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, delta] of edges) peak = Math.max(peak, (running += delta));
    assert.ok(peak <= 4, `${peak} targets ran at once`);
    assert.ok(peak >= 2, `${peak}: the pool was never used`);

    const child = r.targets.t07!;
    assert.equal((await h.stats(child.job_id)).upstream_job_id, job.id);
    const file = await h.request('GET', `/api/v1/jobs/${child.job_id}/files/result.txt`);
    assert.equal(file.status, 200);
    assert.equal(await file.text(), `target t07 of ${job.id}\n`);
    assert.equal((await h.request('GET', `/api/v1/jobs/${child.job_id}/files/missing.txt`)).status, 404);
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '.hidden%2Fx', '..']) {
      const response = await h.request('GET', `/api/v1/jobs/${child.job_id}/files/${bad}`);
      assert.ok([400, 404].includes(response.status), `${bad} → ${response.status}`);
      assert.notEqual(response.status, 200);
    }
    assert.equal((await h.request('GET', `/api/v1/jobs/${child.job_id}/files/a%20b`)).status, 400);
    // A file past what a Buffer holds (2 GiB; a report of a big registry) streams: it was read whole, and answered 404.
    const hugePath = join(h.logDir, 'files', child.job_id, 'huge.bin');
    writeFileSync(hugePath, '');
    truncateSync(hugePath, 3 * 1024 ** 3);
    const huge = await h.request('GET', `/api/v1/jobs/${child.job_id}/files/huge.bin`);
    assert.equal(huge.status, 200);
    assert.equal(huge.headers.get('content-length'), String(3 * 1024 ** 3));
    await huge.body?.cancel();

    // The closed execution's memo reaches visibility a moment after its status.
    const families = await waitFor(
      scrape,
      (f) => samples(f, 'test_batch_value').filter((s) => s.labels?.execution_id === job.id).length >= 30,
      {
        what: 'the execution’s 30 targets on /metrics',
      },
    );
    const values = samples(families, 'test_batch_value').filter((s) => s.labels?.execution_id === job.id);
    assert.equal(values.length, 30);
    assert.deepEqual(
      values.find((s) => s.labels?.target === 't07'),
      { labels: { parity: 'odd', tag: 'first', target: 't07', execution_id: job.id }, value: '7' },
    );
    assert.equal(samples(families, 'test_batch_value').filter((s) => s.labels?.execution_id === 'latest').length, 30);

    // The job's definition drops a label (a new release; an API upgraded before its workers): the
    // reports kept from before still show, with the labels declared today, and the scrape answers.
    const declared = testBatchJob.batch!;
    const narrower = {
      ...testBatchJob,
      batch: { ...declared, gauges: declared.gauges.map((g) => ({ ...g, labels: g.labels.filter((l) => l !== 'tag') })) },
    };
    const text = await renderBatchMetrics(h.client, createJobRegistry([narrower]), h.config.temporal.task_queue);
    const narrowed = (parsePrometheusTextFormat(text) as Family[]).find((f) => f.name === 'test_batch_value')!.metrics;
    assert.deepEqual(
      narrowed.find((m) => m.labels?.target === 't07' && m.labels.execution_id === job.id),
      { labels: { parity: 'odd', target: 't07', execution_id: job.id }, value: '7' },
    );
  });

  it('execution_id="latest" follows the newest execution, and report_history 2 keeps exactly two executions', async () => {
    const ids: string[] = [];
    const firstReport: JobReport[] = [];
    for (const tag of ['second', 'third', 'fourth']) {
      const job = await batch({ count: 3, report_history: 2, tag });
      assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 60_000)).status, 'Success');
      ids.push(job.id);
      if (ids.length === 1) firstReport.push(await report(job.id));
    }
    const kept = await waitFor(
      async () => {
        const executions = new Set(samples(await scrape(), 'test_batch_value').map((s) => s.labels?.execution_id));
        return [...executions].sort();
      },
      (e) => JSON.stringify(e) === JSON.stringify([ids[1], ids[2], 'latest'].sort()),
      { timeoutMs: 60_000, what: 'the two newest executions, and only them, on /metrics' },
    );
    assert.deepEqual(kept, [ids[1], ids[2], 'latest'].sort());
    const latest = samples(await scrape(), 'test_batch_value').filter((s) => s.labels?.execution_id === 'latest');
    assert.deepEqual(new Set(latest.map((s) => s.labels?.tag)), new Set(['fourth']));
    // Visibility drops a deleted execution a moment after the delete.
    await waitFor(
      async () => (await h.client.workflow.count(`JobName = 'TEST_BATCH' AND TaskQueue = '${h.config.temporal.task_queue}'`)).count,
      (n) => n === 2,
      { what: 'two TEST_BATCH executions kept' },
    );
    // The server removes the state behind visibility, usually at once but with retries that can
    // take minutes (see the periodic history-limit test, where it once took over a minute in CI).
    await waitFor(
      async () => (await h.request('GET', `/api/v1/jobs/${ids[0]}`)).status,
      (s) => s === 404,
      { timeoutMs: 210_000, what: 'the pruned execution to be gone' },
    );
    // Its targets' files went with it.
    const prunedTarget = Object.values(firstReport[0]!.targets)[0]!;
    assert.deepEqual(prunedTarget.files, ['result.txt']);
    assert.equal((await h.request('GET', `/api/v1/jobs/${prunedTarget.job_id}/files/result.txt`)).status, 404);
  });

  /** Triggers a periodic job once more and waits for that execution to close (only a closed execution is pruned); its id goes to `fired`. */
  const fireAndClose = async (periodicId: string, fired: string[]) => {
    const executions = async () => {
      const response = await h.request('GET', `/api/v1/jobs/${periodicId}/executions?page_size=100`);
      return ((await response.json()) as { job: { id: string } }[]).map((r) => r.job.id);
    };
    // An execution's id carries its fire's second: a second trigger in the same second would reuse the id.
    const second = new Date().toISOString().slice(0, 19);
    if (fired.length > 0)
      await waitFor(
        async () => new Date().toISOString().slice(0, 19),
        (now) => now !== second,
        { what: 'the next second' },
      );
    assert.equal((await h.request('POST', `/api/v1/jobs/${periodicId}`, { action: 'trigger' })).status, 204);
    const ids = await waitFor(executions, (list) => list.some((id) => !fired.includes(id)), {
      timeoutMs: 60_000,
      what: `execution ${fired.length + 1} of ${periodicId}`,
    });
    const id = ids.find((e) => !fired.includes(e))!;
    fired.push(id);
    await waitFor(
      async () => (await h.client.workflow.getHandle(id).describe()).status.name,
      (status) => status !== 'RUNNING',
      { timeoutMs: 60_000, what: `execution ${id} to close` },
    );
    return id;
  };

  it('history limits of a periodic batch job delete an execution with its targets and their files', async () => {
    const periodic = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 3, report_history: 10, tag: 'limits' },
      metadata: { kind: 'Periodic', cron_spec: '@yearly', successful_jobs_history_limit: 1 },
    });
    try {
      const fired: string[] = [];
      const first = await fireAndClose(periodic.id, fired);
      const targets = Object.values((await settledReport(first)).targets);
      assert.equal(targets.length, 3);
      await fireAndClose(periodic.id, fired);
      await waitFor(
        async () => (await h.request('GET', `/api/v1/jobs/${first}`)).status,
        (status) => status === 404,
        { timeoutMs: 60_000, what: 'the first execution pruned by successful_jobs_history_limit 1' },
      );
      // Temporal deletes a workflow after answering the delete: a target deleted just before its
      // parent may still read for a moment.
      for (const target of targets) {
        await waitFor(
          async () => (await h.request('GET', `/api/v1/jobs/${target.job_id}`)).status,
          (status) => status === 404,
          { timeoutMs: 20_000, what: `target ${target.job_id} to go with it` },
        );
        assert.equal((await h.request('GET', `/api/v1/jobs/${target.job_id}/files/result.txt`)).status, 404);
      }
    } finally {
      await h.client.schedule.getHandle(periodic.id).delete();
    }
  });

  it('report_history prunes within a series: a periodic job its own executions, never a job of that name submitted on its own', async () => {
    const own = await batch({ count: 2, report_history: 1, tag: 'own' });
    assert.equal((await h.waitForStatus(own.id, ['Success', 'Error'], 60_000)).status, 'Success');
    const periodic = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 2, report_history: 1, tag: 'periodic' },
      metadata: { kind: 'Periodic', cron_spec: '@yearly' },
    });
    try {
      const fired: string[] = [];
      for (let i = 0; i < 2; i++) await fireAndClose(periodic.id, fired);
      // The second execution pruned the first (report_history 1).
      await waitFor(
        async () => (await h.request('GET', `/api/v1/jobs/${fired[0]}`)).status,
        (status) => status === 404,
        { timeoutMs: 210_000, what: 'the first execution of the periodic batch job to be pruned' },
      );
      // The job submitted on its own is another series: still there, report and all.
      assert.equal((await h.request('GET', `/api/v1/jobs/${own.id}`)).status, 200);
      assert.equal(Object.keys((await report(own.id)).targets).length, 2);
    } finally {
      await h.client.schedule.getHandle(periodic.id).delete();
    }
  });

  it('10,000 targets with names of 64 characters fit; 20,000 fail at once, saying why, not hours in', async () => {
    // A plan of 10,000 × ~78 bytes (each name said once), results of 10,000 × ~144: both under 2 MB.
    const fits = await batch({ count: 10_000, pad: 58, pool_size: 1 });
    const running = await waitFor(
      () => h.stats(fits.id),
      (s) => s.status === 'Running' && s.check_in !== undefined,
      { timeoutMs: 60_000, what: 'the planned job to run its first target' },
    );
    assert.equal(JSON.parse(running.check_in!).targets, 10_000);
    assert.equal((await h.request('POST', `/api/v1/jobs/${fits.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(fits.id, ['Stopped'], 60_000);
    const tooLarge = await batch({ count: 20_000, pad: 58 });
    const failed = await h.waitForStatus(tooLarge.id, ['Error', 'Success'], 60_000);
    assert.equal(failed.status, 'Error');
    assert.match(
      failed.last_error ?? '',
      /an execution of 20000 targets would carry about 2\.\d\d MB of per-target results, over the 1\.9 MB/,
    );
    assert.equal(failed.fails, 1);
  });

  it('a target that reports an undeclared gauge fails naming it; the others go on; retry runs only the failed targets', async () => {
    const job = await batch({ count: 4, undeclared: ['t01'], fail: ['t02'] });
    const failed = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(failed.status, 'Error');
    assert.match(failed.last_error ?? '', /2 of 4 targets did not succeed: t01 \(Error\), t02 \(Error\)/);
    const r = await settledReport(job.id);
    assert.equal(r.targets.t00?.status, 'Success');
    assert.equal(r.targets.t03?.status, 'Success');
    assert.match((await h.stats(r.targets.t01!.job_id)).last_error ?? '', /gauge "not_declared", which the job does not declare/);
    // The job reads Error at once; its workflow closes after its housekeeping, and then it can be retried.
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { what: 'the workflow to close' },
    );

    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
    const retried = await waitFor(
      () => h.stats(job.id),
      (s) => s.revision > failed.revision && ['Success', 'Error'].includes(s.status),
      {
        timeoutMs: 60_000,
        what: 'the retry to end',
      },
    );
    assert.equal(retried.sub_jobs?.length, 2, 'only the two failed targets ran again');
    const again = await report(job.id);
    assert.equal(again.targets.t00?.job_id, r.targets.t00?.job_id);
    assert.notEqual(again.targets.t01?.job_id, r.targets.t01?.job_id);
  });

  it("a target's report too large for its memo fails the target saying so; many large reports never end the execution", async () => {
    // One report over the cap: the target fails naming the size (it was lost, and the target run three times).
    const huge = await batch({ count: 1, tag: 'x'.repeat(70_000) });
    const failed = await h.waitForStatus(huge.id, ['Success', 'Error'], 60_000);
    assert.equal(failed.status, 'Error');
    const target = Object.values(failed.results ?? {})[0]!;
    assert.match((await h.stats(target.job_id)).last_error ?? '', /at most 65536/);
    // 40 reports of 60 KB: 2.4 MB together, past Temporal's 2 MB memo limit had the parent kept them,
    // and past gRPC's default 4 MB answer when the report lists the targets with their memos.
    const many = await batch({ count: 40, pool_size: 12, tag: 'y'.repeat(60_000) });
    const done = await h.waitForStatus(many.id, ['Success', 'Error', 'Stopped'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal(Object.keys(done.results ?? {}).length, 40);
    const reported = await report(many.id);
    assert.equal(reported.targets.t39?.results.value?.[0]?.labels.tag?.length, 60_000, 'the report stays with the target job');
  });

  it('stop of an execution stops its running targets and starts no more', async () => {
    const job = await batch({ count: 12, hold_ms: 20_000, pool_size: 3 });
    // A running fan-out's children are found by their UpstreamJobId (its stats list them once it ends).
    const children = async () => {
      const ids: string[] = [];
      for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}'` })) ids.push(e.workflowId);
      return ids;
    };
    const started = await waitFor(children, (ids) => ids.length === 3, { timeoutMs: 30_000, what: 'three targets to start' });
    await Promise.all(started.map((id) => h.waitForStatus(id, ['Running'], 30_000)));
    const running = { sub_jobs: started };
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const stopped = await h.waitForStatus(job.id, ['Stopped'], 30_000);
    for (const id of running.sub_jobs!) assert.equal((await h.waitForStatus(id, ['Stopped'], 30_000)).status, 'Stopped');
    assert.equal(stopped.sub_jobs?.length, 3);
    assert.equal((await h.client.workflow.count(`UpstreamJobId = '${job.id}'`)).count, 3);
    // No target of the stopped execution reported: each target's latest stays the one it last reported.
    await waitFor(
      async () => (await h.client.workflow.count(`WorkflowId = '${job.id}' AND ExecutionStatus != 'Running'`)).count,
      (n) => n === 1,
      { what: 'the stopped execution closed in visibility' },
    );
    const latest = samples(await scrape(), 'test_batch_value').filter((s) => s.labels?.execution_id === 'latest');
    assert.ok(latest.length > 0, 'targets keep their latest report after an execution that reported nothing');
  });

  for (const [label, parameters, mentions] of [
    ['pool_size 0', { count: 2, pool_size: 0 }, /pool_size/],
    ['report_history over 100', { count: 2, report_history: 500 }, /report_history/],
    ['a string count', { count: 'ten' }, /count/],
    ['an unknown field', { count: 2, targets: ['a'] }, /targets/],
  ] as const) {
    it(`POST /jobs TEST_BATCH: ${label} → 400`, async () => {
      const response = await h.request('POST', '/api/v1/jobs', { job: { name: 'TEST_BATCH', parameters, metadata: { kind: 'Generic' } } });
      const body = (await response.json()) as { code: number; description: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.code, 10013);
      assert.match(body.description, mentions);
    });
  }

  it('GET /jobs/{id}/report of a job that does not fan out → 400', async () => {
    const job = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    const response = await h.request('GET', `/api/v1/jobs/${job.id}/report`);
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { description: string }).description, /not a batch or fan-out job/);
  });

  it('GET /jobs/{id}/report of a batch job that has not planned yet (Scheduled) → 200 with no targets', async () => {
    const job = await h.submit({ name: 'TEST_BATCH', parameters: { count: 2 }, metadata: { kind: 'Scheduled', schedule_delay: 600 } });
    try {
      const response = await h.request('GET', `/api/v1/jobs/${job.id}/report`);
      const body = (await response.json()) as { status: string; targets: Record<string, unknown> };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.deepEqual([body.status, body.targets], ['Scheduled', {}]);
    } finally {
      await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
    }
  });

  it('REPOSITORY_REPORT reports each repository’s tags, manifests and blob bytes', async () => {
    const reg = registry.url;
    await pushImage(reg, 'rr/app', 'v1', '2026-01-01T00:00:00Z');
    const v2 = await pushImage(reg, 'rr/app', 'v2', '2026-02-01T00:00:00Z');
    await addTag(reg, 'rr/app', v2, 'latest');
    await pushIndex(reg, 'rr/multi', 'multi', '2026-03-01T00:00:00Z');
    // What the registry itself says the blobs weigh, read without the job's client.
    const bytesOf = async (repo: string, refs: string[]) => {
      const blobs = new Map<string, number>();
      for (const ref of refs) {
        const m = (await (
          await fetch(`${reg}/v2/${repo}/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
        ).json()) as {
          config: { digest: string; size: number };
          layers: { digest: string; size: number }[];
        };
        for (const b of [m.config, ...m.layers]) blobs.set(b.digest, b.size);
      }
      return [...blobs.values()].reduce((a, b) => a + b, 0);
    };
    const index = (await (
      await fetch(`${reg}/v2/rr/multi/manifests/multi`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } })
    ).json()) as {
      manifests: { digest: string }[];
    };
    const job = await h.submit({
      name: 'REPOSITORY_REPORT',
      parameters: { registry: { url: reg }, pool_size: 4 },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const r = await settledReport(job.id);
    const value = (repo: string, suffix: string) => r.targets[repo]?.results[suffix]?.[0]?.value;
    assert.equal(value('rr/app', 'repository_tags'), 3);
    assert.equal(value('rr/app', 'repository_manifests'), 2);
    assert.equal(value('rr/app', 'repository_bytes'), await bytesOf('rr/app', ['v1', 'v2']));
    assert.equal(value('rr/multi', 'repository_tags'), 1);
    assert.equal(value('rr/multi', 'repository_manifests'), 3);
    assert.equal(
      value('rr/multi', 'repository_bytes'),
      await bytesOf(
        'rr/multi',
        index.manifests.map((m) => m.digest),
      ),
    );
    // A repository the registry cannot read is an event (a warning) of its target, not a failure of the rest.
    const proxy = await startRegistryProxy(reg);
    proxy.failingPaths.add('/v2/rr/multi/tags/');
    try {
      const partial = await h.submit({
        name: 'REPOSITORY_REPORT',
        parameters: { registry: { url: proxy.url } },
        metadata: { kind: 'Generic' },
      });
      assert.equal((await h.waitForStatus(partial.id, ['Success', 'Error'], 60_000)).status, 'Success');
      const settled = await settledReport(partial.id);
      const unread = settled.targets['rr/multi'];
      assert.equal(unread?.events[0]?.reason, 'RepositoryUnreadable');
      assert.equal(unread?.events[0]?.warning, true);
      assert.match(unread?.events[0]?.message ?? '', /tags of rr\/multi: HTTP 500/);
      assert.deepEqual(unread?.results, {});
      assert.equal(settled.targets['rr/app']?.results.repository_tags?.[0]?.value, 3);
    } finally {
      await proxy.close();
    }
    const families = await waitFor(
      scrape,
      (f) => samples(f, 'jobservice_registry_repository_tags').some((s) => s.labels?.execution_id === job.id),
      {
        what: 'the report on /metrics',
      },
    );
    const tags = samples(families, 'jobservice_registry_repository_tags').filter((s) => s.labels?.execution_id === job.id);
    assert.deepEqual(tags.find((s) => s.labels?.target === 'rr/app')?.value, '3');
  });
});

/** A fan-out job terminated from outside (Web UI, CLI): its children are not closed with it. */
describe('a retry of a fan-out job that was terminated', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });
  const children = async (id: string) => {
    const rows: { id: string; running: boolean }[] = [];
    for await (const e of h.client.workflow.list({ query: `UpstreamJobId = '${id}'` }))
      rows.push({ id: e.workflowId, running: e.status.name === 'RUNNING' });
    return rows;
  };
  const retry = (id: string) => h.request('POST', `/api/v1/jobs/${id}`, { action: 'retry' });

  it('is refused while its targets still run, then runs only the targets that did not succeed', async () => {
    const job = await h.submit({
      name: 'TEST_BATCH',
      parameters: { count: 4, hold_ms: 3_000, pool_size: 2 },
      metadata: { kind: 'Generic' },
    });
    const first = await waitFor(
      () => children(job.id),
      (c) => c.length === 2,
      { what: 'two targets started', timeoutMs: 30_000 },
    );
    await Promise.all(first.map((c) => h.waitForStatus(c.id, ['Running'])));
    await h.client.workflow.getHandle(job.id).terminate('operator');
    await h.waitForStatus(job.id, ['Stopped']);
    const early = await retry(job.id);
    assert.equal(early.status, 409, await early.clone().text());
    assert.match(((await early.json()) as { description: string }).description, /2 of the jobs it started still run/);
    // The two abandoned targets finish on their own (Success); the other two never started.
    for (const c of first) assert.equal((await h.waitForStatus(c.id, ['Success', 'Error', 'Stopped'], 30_000)).status, 'Success');
    await waitFor(
      () => children(job.id),
      (c) => c.every((x) => !x.running),
      { what: 'visibility to show them closed' },
    );
    const before = await h.stats(job.id);
    assert.equal((await retry(job.id)).status, 204);
    const retried = await waitFor(
      () => h.stats(job.id),
      (s) => s.revision > before.revision && ['Success', 'Error'].includes(s.status),
      { timeoutMs: 60_000, what: 'the retry to end' },
    );
    assert.equal(retried.status, 'Success', retried.last_error);
    assert.equal(retried.sub_jobs?.length, 2, 'only the two targets that had not run');
    assert.equal((await children(job.id)).length, 4);
  });
});
