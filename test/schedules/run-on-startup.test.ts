import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { scheduleSpec } from '../../src/api/periodic-spec.js';
import { parseCronSpec } from '../../src/schedules/cron-spec.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { periodicSuite } from '../helpers/schedules.js';
import type { Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

describe('run_on_startup: a periodic job runs once soon after it is created, then on its cron', () => {
  let h: Harness;
  const { created } = periodicSuite((harness) => (h = harness));
  for (const timezone of ['UTC', 'America/New_York']) {
    it(`fires once after startup_delay, in the job's zone (${timezone}), and next on the yearly cron`, async () => {
      const before = Date.now();
      const job = await h.submit({
        name: 'NOOP',
        parameters: {},
        metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *', timezone, run_on_startup: true, startup_delay: 2 },
      });
      created.push(job.id);
      assert.match(job.next_run_times?.[1] ?? '', /-01-01T00:00:00/, JSON.stringify(job.next_run_times));
      const first = Date.parse(job.next_run_times![0]!);
      assert.ok(first >= before + 1000 && first <= Date.now() + 3000, `${job.next_run_times![0]} is not ~2 s away`);
      const list = await waitFor(
        async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[]).map((i) => i.job),
        (jobs) => jobs.some((j) => j.status === 'Success'),
        { timeoutMs: 30_000, what: 'the startup execution' },
      );
      assert.equal(list.length, 1);
      assert.equal(list[0]!.upstream_job_id, job.id);
      assert.match(list[0]!.id, new RegExp(`^${job.id}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
      const after = await h.stats(job.id);
      assert.match(after.next_run_times![0]!, /-01-01T00:00:00/, 'the startup fire is done; next is the cron');
    });
  }

  it('fires soon with the default startup_delay (0)', async () => {
    const job = await h.submit({
      name: 'NOOP',
      parameters: {},
      metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *', run_on_startup: true },
    });
    created.push(job.id);
    const list = await waitFor(
      async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[]).map((i) => i.job),
      (jobs) => jobs.some((j) => j.status === 'Success'),
      { timeoutMs: 15_000, what: 'the startup execution' },
    );
    assert.equal(list.length, 1);
  });

  it('fires once when its second falls in the hour a fall-back day repeats (New York, 2027-11-07 01:30)', async () => {
    // 05:30:00Z is 01:30:00 EDT; an hour later the clocks show 01:30:00 again, EST.
    const now = new Date('2027-11-07T05:30:00Z');
    const scheduleId = `startup-dst-${randomBytes(6).toString('hex')}`;
    await h.client.schedule.create({
      scheduleId,
      spec: {
        ...scheduleSpec(parseCronSpec('0 0 0 1 1 *'), { timezone: 'America/New_York', run_on_startup: true }, now),
        startAt: new Date('2027-11-07T05:29:00Z'),
      },
      action: { type: 'startWorkflow', workflowType: 'NeverRuns', taskQueue: 'startup-dst', args: [] },
      state: { paused: true },
    });
    created.push(scheduleId);
    const { info } = await h.client.schedule.getHandle(scheduleId).describe();
    assert.deepEqual(
      info.nextActionTimes.slice(0, 2).map((t) => t.toISOString()),
      ['2027-11-07T05:30:01.000Z', '2028-01-01T05:00:00.000Z'],
    );
  });

  for (const [label, metadata] of [
    ['startup_delay without run_on_startup', { kind: 'Periodic', cron_spec: '@daily', startup_delay: 5 }],
    ['run_on_startup on a Generic job', { kind: 'Generic', run_on_startup: true }],
    ['a negative startup_delay', { kind: 'Periodic', cron_spec: '@daily', run_on_startup: true, startup_delay: -1 }],
  ] as const) {
    it(`${label} → 400`, async () => {
      const response = await h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters: {}, metadata } });
      const body = (await response.json()) as { code: number; description: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(body.description, /startup/);
    });
  }
});
