import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScheduleSpecDescription } from '@temporalio/client';
import { decodeOptionalStructuredCalendarSpecs, encodeOptionalStructuredCalendarSpecs } from '@temporalio/client/lib/schedule-helpers.js';
import { scheduleSpec } from '../../src/api/periodic-spec.js';
import { parseCronSpec } from '../../src/schedules/cron-spec.js';
import { liveCronSpec } from '../../src/schedules/live-cron.js';

/** A cron as describe returns its schedule's times: through the SDK's encoding and back. */
function described(
  cron: string,
  options: { timezone?: string } = {},
): Pick<ScheduleSpecDescription, 'calendars' | 'intervals' | 'timezone'> {
  const spec = scheduleSpec(parseCronSpec(cron), options);
  return {
    timezone: spec.timezone,
    calendars: decodeOptionalStructuredCalendarSpecs(encodeOptionalStructuredCalendarSpecs(spec.calendars)),
    intervals: (spec.intervals ?? []).map((i) => ({ every: Number(i.every), offset: Number(i.offset ?? 0) })),
  };
}

const shown = (submitted: string, live: string, options: { timezone?: string; run_on_startup?: boolean } = {}, liveOptions = options) =>
  liveCronSpec(submitted, scheduleSpec(parseCronSpec(submitted), options), described(live, liveOptions));

describe('the cron_spec a periodic job shows', () => {
  it('is the text submitted while the schedule keeps the times it compiled to', () => {
    for (const cron of ['@yearly', '0 */10 * * * *', '*/5 * * * *', '0 0 0 1 * MON', '@every 1h30m']) {
      assert.equal(shown(cron, cron), cron, cron);
    }
    assert.equal(shown('0 0 0 * * *', '@daily'), '0 0 0 * * *', 'the same times written another way');
    assert.equal(shown('@hourly', '@hourly', { run_on_startup: true }), '@hourly', "run_on_startup's one instant is not the job's times");
    assert.equal(shown('@hourly', '@hourly', { run_on_startup: true }, {}), '@hourly', 'restated by an operator, without the instant');
    const tokyo = 'CRON_TZ=Asia/Tokyo 0 30 9 * * 1-5';
    assert.equal(shown(tokyo, tokyo, { timezone: 'Asia/Tokyo' }), tokyo, 'in the zone it names');
  });

  it('is the times an operator replaced them with, as a six-field cron or @every', () => {
    assert.equal(shown('@yearly', '*/10 * * * *'), '0 */10 * * * *');
    assert.equal(shown('@yearly', '30 15 9-17 * * 1-5'), '30 15 9-17 * * 1-5');
    assert.equal(shown('@yearly', '0 0 0 1,15 * *'), '0 0 0 1,15 * *');
    assert.equal(shown('@yearly', '0 0 6,8,9,10 * * *'), '0 0 6,8-10 * * *');
    assert.equal(shown('@yearly', '0 5-50/15 * * * *'), '0 5-50/15 * * * *');
    // Cron's "either day" is two calendars: shown as one cron again.
    assert.equal(shown('@yearly', '0 0 0 1 * MON'), '0 0 0 1 * 1');
    assert.equal(shown('@hourly', '@every 90s'), '@every 1m30s');
    assert.equal(shown('@every 1m', '@every 2h'), '@every 2h');
    // The zone a CRON_TZ= text names is no longer the schedule's: options.timezone shows the new one.
    const tokyo = 'CRON_TZ=Asia/Tokyo 0 30 9 * * 1-5';
    assert.equal(shown(tokyo, '0 30 9 * * 1-5', { timezone: 'Asia/Tokyo' }, { timezone: 'Europe/Berlin' }), '0 30 9 * * 1-5');
  });

  it('marks times no cron says: both day fields in one Temporal calendar (AND), a year', () => {
    const live = {
      calendars: [
        {
          second: [{ start: 0, end: 0, step: 1 }],
          dayOfMonth: [{ start: 13, end: 13, step: 1 }],
          dayOfWeek: [{ start: 'FRIDAY' as const, end: 'FRIDAY' as const, step: 1 }],
          year: [{ start: 2027, end: 2027, step: 1 }],
        },
      ],
    };
    assert.equal(
      liveCronSpec('@yearly', scheduleSpec(parseCronSpec('@yearly'), {}), live as Pick<ScheduleSpecDescription, 'calendars'>),
      '0 0 0 13 * 5 (day-of-month and day-of-week) (year 2027)',
    );
  });
});
