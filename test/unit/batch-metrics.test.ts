import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { executionsToRead, latestReports, type TargetReport } from '../../src/api/batch-metrics.js';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';
import { queueGaugeName } from '../../src/metrics/metric-names.js';

/** Visibility rows as the list yields them, newest closed first: `series` is the UpstreamJobId (a periodic job's), '' for none. */
async function* rows(list: { id: string; series: string }[]) {
  for (const { id, series } of list) yield { workflowId: id, typedSearchAttributes: { get: () => series || undefined } };
}

describe("the batch jobs' gauges on /metrics", () => {
  it('reads every kept execution of each series: two periodic jobs keeping 60 reports each show 120', async () => {
    const listed = Array.from({ length: 120 }, (_, i) => ({ id: `e${i}`, series: i % 2 === 0 ? 'periodic-a' : 'periodic-b' }));
    assert.equal((await executionsToRead(rows(listed))).length, 120);
    // One series beyond the most report_history keeps: its newest 100, and the other series still whole.
    const crowded = [...Array.from({ length: 150 }, (_, i) => ({ id: `a${i}`, series: 'a' })), { id: 'b0', series: 'b' }];
    const read = await executionsToRead(rows(crowded));
    assert.equal(read.filter((id) => id.startsWith('a')).length, 100);
    assert.ok(read.includes('b0'));
  });

  it("a target's latest is its newest report by when it ran, not the report of the execution that closed last (a retry)", () => {
    const report = (value: number) => ({ tags: [{ value, labels: {} }] });
    // E1 ran target a long ago, E2 after it; E1 was then retried (its failed target b ran again) and closed last.
    const reported: TargetReport[] = [
      { execution: 'e1', target: 'a', startedAt: 1_000, report: report(1) },
      { execution: 'e1', target: 'b', startedAt: 3_000, report: report(3) },
      { execution: 'e2', target: 'a', startedAt: 2_000, report: report(2) },
      { execution: 'e2', target: 'b', startedAt: 2_000, report: report(2) },
      // A target that reported nothing leaves its latest as it was.
      { execution: 'e3', target: 'a', startedAt: 4_000, report: { tags: [] } },
    ];
    const latest = latestReports(reported);
    assert.equal(latest.get('a')?.execution, 'e2');
    assert.equal(latest.get('b')?.execution, 'e1');
  });

  it('a batch gauge named like a job queue gauge is refused at start-up, as two batch jobs exporting one name are', () => {
    const [exec, target] = defineBatchJob({
      name: 'QUEUE_REPORT',
      metricsPrefix: queueGaugeName('pending').replace(/_queue_pending$/, ''),
      params: z.object({}).strict(),
      gauges: [{ suffix: 'queue_pending', help: 'pending per project', labels: [] }],
      listTargets: async () => [],
      runTarget: async () => undefined,
    });
    assert.throws(
      () => createJobRegistry([exec, target]),
      /the job queues and QUEUE_REPORT both export the gauge harbor_jobservice_queue_pending/,
    );
  });

  it("a target's file names count toward its report's 64 KiB: one too many fails the target, and the report it had stays readable", async () => {
    const [, target] = defineBatchJob({
      name: 'MANY_FILES',
      params: z.object({}).strict(),
      gauges: [{ suffix: 'value', help: 'a value', labels: [] }],
      listTargets: async () => ['t'],
      runTarget: async (ctx) => {
        ctx.report({ value: [{ value: 1, labels: {} }] });
        for (let i = 0; i < 2000; i++) await ctx.saveFile(`${String(i).padStart(4, '0')}-${'f'.repeat(100)}.txt`, 'x');
      },
    });
    const checkIns: string[] = [];
    let kept = 0;
    const ctx = {
      logger: { info: () => undefined, warning: () => undefined },
      checkin: (message: string) => checkIns.push(message),
      saveFile: async () => {
        kept += 1;
      },
    } as unknown as Parameters<typeof target.run>[0];
    await assert.rejects(
      target.run(ctx, { target: 't', execution_id: 'e', parameters: {} }),
      /file names take \d+ bytes as JSON; at most 65536/,
    );
    const summary = JSON.parse(checkIns.at(-1)!) as { report: { value?: unknown[] }; files: string[] };
    assert.equal(summary.report.value?.length, 1);
    assert.equal(summary.files.length, kept, 'every file kept is listed, and none past the limit was kept');
    assert.ok(Buffer.byteLength(checkIns.at(-1)!) <= 64 * 1024);
  });
});
