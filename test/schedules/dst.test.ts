import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import { scheduleSpec } from '../../src/api/periodic-spec.js';
import { parseCronSpec } from '../../src/schedules/cron-spec.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * Fire times as the Temporal server computes them for our translated specs, starting just before a
 * DST change, checked against cron-parser where classic cron and Temporal agree and against the
 * documented Temporal behaviour where they do not (a skipped local time, a repeated one).
 */
describe('fire times across DST changes, computed by the server', () => {
  let h: Harness;
  const created: string[] = [];
  before(async () => {
    h = await createHarness({ worker: false });
  });
  after(async () => {
    await deleteSchedules(h.client, created);
    await h.close();
  });

  /** The next `count` fires from `from`, as ISO strings in UTC. */
  const serverTimes = async (cron: string, timezone: string, from: string, count: number) => {
    const scheduleId = `dst-${randomBytes(6).toString('hex')}`;
    await h.client.schedule.create({
      scheduleId,
      spec: { ...scheduleSpec(parseCronSpec(cron), { timezone }), startAt: new Date(from) },
      action: { type: 'startWorkflow', workflowType: 'NeverRuns', taskQueue: 'dst-test', args: [] },
      state: { paused: true },
    });
    created.push(scheduleId);
    const times = (await h.client.schedule.getHandle(scheduleId).describe()).info.nextActionTimes;
    assert.ok(times.length >= count, `the server gave ${times.length} times`);
    return times.slice(0, count).map((t) => t.toISOString());
  };
  const referenceTimes = (cron: string, timezone: string, from: string, count: number) => {
    // cron-parser starts strictly after currentDate; Temporal's startAt is inclusive.
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date(Date.parse(from) - 1000), tz: timezone });
    return Array.from({ length: count }, () => new Date(expression.next().getTime()).toISOString());
  };

  for (const [cron, timezone, from, count, note] of [
    ['0 0 9 * * *', 'America/New_York', '2027-03-12T00:00:00Z', 5, 'daily 09:00 across spring forward'],
    ['0 0 9 * * *', 'America/New_York', '2027-11-05T00:00:00Z', 5, 'daily 09:00 across fall back'],
    ['0 0 12 * * 0', 'Europe/Berlin', '2027-03-20T00:00:00Z', 3, 'Sundays at noon across the EU change'],
    ['15 3 * * *', 'Europe/Berlin', '2027-10-29T00:00:00Z', 4, 'five fields, 03:15 across the EU fall back'],
    ['0 0 0 1,15 * MON', 'Australia/Sydney', '2027-09-25T00:00:00Z', 5, 'dom OR dow in the southern hemisphere'],
    ['0 0 */6 * * *', 'America/New_York', '2027-03-13T20:00:00Z', 6, 'every six hours of the local day'],
  ] as const) {
    it(`${cron} in ${timezone}: ${note}`, async () => {
      assert.deepEqual(await serverTimes(cron, timezone, from, count), referenceTimes(cron, timezone, from, count));
    });
  }

  it('a local time that does not exist (spring forward) does not fire that day', async () => {
    const times = await serverTimes('0 30 2 * * *', 'America/New_York', '2027-03-13T00:00:00Z', 3);
    assert.deepEqual(times, ['2027-03-13T07:30:00.000Z', '2027-03-15T06:30:00.000Z', '2027-03-16T06:30:00.000Z']);
  });

  it('a local time that happens twice (fall back) fires twice', async () => {
    const times = await serverTimes('0 30 1 * * *', 'America/New_York', '2027-11-06T00:00:00Z', 4);
    assert.deepEqual(times, [
      '2027-11-06T05:30:00.000Z',
      '2027-11-07T05:30:00.000Z',
      '2027-11-07T06:30:00.000Z',
      '2027-11-08T06:30:00.000Z',
    ]);
  });
});
