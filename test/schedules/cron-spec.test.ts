import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CalendarSpec } from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';
import { CronSpecError, parseCronSpec } from '../../src/schedules/cron-spec.js';

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

/** Does a UTC time match a Temporal calendar? (Temporal's own semantics: every field ANDed.) */
function matches(calendar: CalendarSpec, t: Date): boolean {
  const inField = (spec: unknown, v: number, names?: string[]): boolean => {
    if (spec === '*') return true;
    const items = Array.isArray(spec) ? spec : [spec];
    return items.some((item) => {
      if (typeof item === 'string') return names!.indexOf(item) === v;
      if (typeof item === 'number') return item === v;
      const r = item as { start: number; end?: number; step?: number };
      const end = r.end ?? r.start;
      const step = r.step ?? 1;
      return v >= r.start && v <= end && (v - r.start) % step === 0;
    });
  };
  return (
    inField(calendar.second, t.getUTCSeconds()) &&
    inField(calendar.minute, t.getUTCMinutes()) &&
    inField(calendar.hour, t.getUTCHours()) &&
    inField(calendar.dayOfMonth, t.getUTCDate()) &&
    inField(calendar.month, t.getUTCMonth(), MONTHS) &&
    inField(calendar.dayOfWeek, t.getUTCDay(), DAYS)
  );
}

function ourNextTimes(spec: string, from: Date, count: number, stepMs: number): string[] {
  const times = parseCronSpec(spec);
  assert.ok('calendars' in times);
  const found: string[] = [];
  for (let t = from.getTime() + stepMs; found.length < count; t += stepMs) {
    const date = new Date(t);
    if (times.calendars.some((c) => matches(c, date))) found.push(date.toISOString());
  }
  return found;
}

function referenceNextTimes(spec: string, from: Date, count: number): string[] {
  const expression = CronExpressionParser.parse(spec, { currentDate: from, tz: 'UTC' });
  return Array.from({ length: count }, () => expression.next().toISOString()!);
}

const FROM = new Date('2026-03-01T00:00:00Z');

describe('cron_spec translation', () => {
  for (const [spec, count, stepMs] of [
    ['*/2 * * * * *', 10, 1000], // Harbor: every 2 seconds
    ['15 */5 * * * *', 6, 1000], // second 15 of every fifth minute
    ['0 30 9 * * 1-5', 6, 60_000], // weekdays 09:30
    ['0 0 0 13 * 5', 6, 60_000], // the 13th OR a Friday (classic cron)
    ['0 0 12 1,15 * MON', 6, 60_000], // names, lists and dom/dow OR
    ['0 0 6 * JAN-MAR SUN', 4, 60_000],
    ['0 0 0 * * 7', 3, 60_000], // 7 is Sunday
    ['0 0 0 * * 5-7', 6, 60_000],
    ['30 10/20 * * * *', 6, 1000], // a/n: from 10 in steps of 20
    ['0 5 4 * * *', 3, 60_000], // five fields' worth of a daily job
    ['0 */15 * * *', 6, 60_000], // five fields: minute hour dom month dow
    ['0 0 1 */2 *', 3, 60_000],
    // A stepped '*' restricts its day field (robfig/cron clears the star bit for a step over 1).
    ['0 0 0 */2 * *', 6, 60_000], // odd days of the month, every day of the week
    ['0 0 * * */2', 6, 60_000], // Sunday, Tuesday, Thursday, Saturday
    ['0 0 */10 * 1', 8, 60_000], // days 1, 11, 21, 31 OR a Monday
    ['0 0 0 * * */3', 5, 60_000],
  ] as const) {
    it(`${spec} fires when an independent cron implementation says`, () => {
      const fields = spec.split(' ').length;
      // cron-parser takes five fields as minute-first too.
      assert.deepEqual(ourNextTimes(spec, FROM, count, stepMs), referenceNextTimes(spec, FROM, count), `${fields} fields`);
    });
  }

  it('a stepped day of the week (`1/2`) runs to Saturday, as robfig/cron’s 0-6: no Sunday is added', () => {
    // cron-parser counts 7 in (Mon, Wed, Fri, Sun); robfig/cron v3, which Harbor uses, does not.
    const days = (spec: string) => ourNextTimes(spec, FROM, 6, 60_000).map((t) => new Date(t).getUTCDay());
    assert.deepEqual(days('0 0 0 * * 1/2'), [1, 3, 5, 1, 3, 5]);
    assert.deepEqual(days('0 0 0 * * 3/4'), [3, 3, 3, 3, 3, 3]);
    assert.deepEqual(days('0 0 0 * * 0/3'), [3, 6, 0, 3, 6, 0]);
  });

  it("reads '?' as '*', as robfig/cron does (Harbor core accepts it)", () => {
    assert.deepEqual(parseCronSpec('0 0 0 ? * MON'), parseCronSpec('0 0 0 * * MON'));
    assert.deepEqual(parseCronSpec('0 0 0 1 * ?'), parseCronSpec('0 0 0 1 * *'));
    assert.deepEqual(parseCronSpec('0 ?/15 * * * *'), parseCronSpec('0 */15 * * * *'));
  });

  it('keeps a day of the month that only some given months have, and Feb 29 (leap years)', () => {
    assert.deepEqual(ourNextTimes('0 0 0 31 2,3 *', FROM, 1, 60_000), ['2026-03-31T00:00:00.000Z']);
    assert.doesNotThrow(() => parseCronSpec('0 0 0 29 2 *'));
    assert.doesNotThrow(() => parseCronSpec('0 0 0 31 2 MON'), 'with a weekday too it fires on Mondays in February');
  });

  it("takes '*/1' in a day field as '*', as robfig/cron does: with a restricted other day field both must match", () => {
    assert.deepEqual(ourNextTimes('0 0 0 */1 * MON', FROM, 2, 60_000), ['2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z']);
    assert.deepEqual(ourNextTimes('0 0 0 1 * *,*/1', FROM, 2, 60_000), ['2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
  });

  it('expands the macros like robfig/cron', () => {
    assert.deepEqual(ourNextTimes('@hourly', FROM, 2, 60_000), ['2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z']);
    assert.deepEqual(ourNextTimes('@daily', FROM, 1, 60_000), ['2026-03-02T00:00:00.000Z']);
    assert.deepEqual(ourNextTimes('@weekly', FROM, 1, 60_000), ['2026-03-08T00:00:00.000Z']);
    assert.deepEqual(ourNextTimes('@monthly', FROM, 1, 60_000), ['2026-04-01T00:00:00.000Z']);
    assert.deepEqual(parseCronSpec('@annually'), parseCronSpec('@yearly'));
    assert.deepEqual(parseCronSpec('@midnight'), parseCronSpec('@daily'));
  });

  it('turns @every into an interval of whole seconds', () => {
    assert.deepEqual(parseCronSpec('@every 90s'), { intervals: [{ every: 90_000 }] });
    assert.deepEqual(parseCronSpec('@every 1h30m'), { intervals: [{ every: 5_400_000 }] });
    assert.deepEqual(parseCronSpec('@every 438000h'), { intervals: [{ every: 438_000 * 3_600_000 }] }, 'fifty years, the longest');
    assert.deepEqual(parseCronSpec('@every 2000ms'), { intervals: [{ every: 2000 }] });
    // Whole seconds as Go's ParseDuration reads them, not as floating point would (245999.99999999997 ms).
    assert.deepEqual(parseCronSpec('@every 4.1m'), { intervals: [{ every: 246_000 }] });
    assert.deepEqual(parseCronSpec('@every 0.55h'), { intervals: [{ every: 1_980_000 }] });
    assert.deepEqual(parseCronSpec('@every 1.5s500ms'), { intervals: [{ every: 2000 }] });
  });

  it('reads a step past the field as its start alone (robfig), never a step Temporal would wrap as an int32', () => {
    // 2^32 reads as 0 (then 1), 2^32 + 1 as 1: these fired every hour, every second and every other day.
    assert.deepEqual(ourNextTimes('0 0 */4294967296 * * *', FROM, 2, 3_600_000), ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z']);
    assert.deepEqual(ourNextTimes('*/4294967297 * * * * *', FROM, 2, 1000), ['2026-03-01T00:01:00.000Z', '2026-03-01T00:02:00.000Z']);
    assert.deepEqual(ourNextTimes('0 0 0 1-31/4294967298 * *', FROM, 2, 3_600_000), [
      '2026-04-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ]);
    assert.deepEqual(ourNextTimes('0 */99999999999999999999 * * * *', FROM, 2, 60_000), [
      '2026-03-01T01:00:00.000Z',
      '2026-03-01T02:00:00.000Z',
    ]);
    for (const calendar of (
      parseCronSpec('*/4294967297 */4294967296 */9999999999 */4294967296 */4294967296 */4294967296') as { calendars: CalendarSpec[] }
    ).calendars) {
      for (const field of [calendar.second, calendar.minute, calendar.hour, calendar.dayOfMonth]) {
        for (const range of Array.isArray(field) ? field : [])
          assert.ok(typeof range !== 'object' || (range.step ?? 1) <= 60, JSON.stringify(calendar));
      }
    }
  });

  for (const [spec, field] of [
    ['', 'spec'],
    ['* * * *', 'spec'],
    ['* * * * * * *', 'spec'],
    ['0 0 0 L * *', 'day-of-month'],
    ['0 0 0 15W * *', 'day-of-month'],
    ['0 0 9 * * MON#2', 'day-of-week'],
    ['0 0 9 * * 5L', 'day-of-week'],
    ['60 * * * * *', 'second'],
    ['0 60 * * * *', 'minute'],
    ['0 0 24 * * *', 'hour'],
    ['0 0 0 0 * *', 'day-of-month'],
    ['0 0 0 32 * *', 'day-of-month'],
    ['0 0 0 * 13 *', 'month'],
    ['0 0 0 * * 8', 'day-of-week'],
    ['0 0 0 * FOO *', 'month'],
    ['0 0,,5 * * * *', 'minute'],
    ['0 */0 * * * *', 'minute'],
    ['0 5-1 * * * *', 'minute'],
    ['0 1-2-3 * * * *', 'minute'],
    ['0 */2/3 * * * *', 'minute'],
    ['-1 * * * * *', 'second'],
    ['@reboot', 'spec'],
    ['@every 0s', '@every'],
    ['@every 1.5s', '@every'],
    ['@every soon', '@every'],
    ['@every 1000000h', '@every'], // would never fire: Temporal computes no next time that far
    ['@every 2562047h', '@every'],
    ['0 0 0 31 2 *', 'day-of-month'], // never: February has no 31st
    ['0 0 30,31 FEB *', 'day-of-month'],
    ['0 0 0 31 4,6,9,11 *', 'day-of-month'],
  ] as const) {
    it(`refuses ${JSON.stringify(spec)}, naming the ${field}`, () => {
      assert.throws(
        () => parseCronSpec(spec),
        (err: unknown) => err instanceof CronSpecError && err.field === field,
      );
    });
  }
});
