import { DAYS_OF_WEEK, MONTHS, type ScheduleSpec, type ScheduleSpecDescription } from '@temporalio/client';
import { ONE_SHOT_EVERY_MS, splitCronZone } from './cron-spec.js';

/**
 * The `cron_spec` a periodic job shows. Temporal keeps a schedule's times as calendars, not as the
 * text submitted, and an operator may replace them (`temporal schedule update --cron …`, the Web
 * UI): the submitted text is shown while the schedule's times are still the ones it compiled to,
 * and otherwise the times as a six-field cron (seconds first, as Harbor writes it), or
 * `@every <duration>`. Times no single cron says (a year, both day fields restricted in one
 * calendar, which Temporal ANDs where cron ORs) show as the calendars and intervals joined by " | ".
 */
export function liveCronSpec(
  submitted: string,
  compiled: ScheduleSpec,
  live: Pick<ScheduleSpecDescription, 'calendars' | 'intervals' | 'timezone'>,
): string {
  // A zone the text names (CRON_TZ=) must still be the schedule's; `options.timezone` shows the zone.
  const { zone } = splitCronZone(submitted);
  const sameZone = zone === undefined || zone === (live.timezone || 'UTC');
  if (sameZone && specKey(compiled) === specKey(live)) return submitted;
  const intervals = (live.intervals ?? [])
    .filter((i) => Number(i.every) < ONE_SHOT_EVERY_MS)
    .map((i) => `@every ${goDuration(Number(i.every))}`);
  const calendars = ((live.calendars ?? []) as object[]).map(canonical);
  const merged = calendars.length === 2 ? mergedDayFields(calendars[0]!, calendars[1]!) : undefined;
  const texts = merged ? [cronText(merged, true)] : calendars.map((c) => cronText(c, false));
  return [...texts, ...intervals].join(' | ') || submitted;
}

/** What a field of a calendar may be: the SDK's input form (values, names, loose ranges, '*') or its described form (ranges). */
type Loose = number | string | { start: number | string; end?: number | string; step?: number };
type FieldValue = '*' | Loose | Loose[] | undefined;

interface FieldDef {
  key: string;
  min: number;
  max: number;
  /** What an empty list means (Temporal's default); none: every value. */
  empty?: readonly number[];
  names?: readonly string[];
  /** The value of names[0]. */
  base?: number;
}

const FIELDS: readonly FieldDef[] = [
  { key: 'second', min: 0, max: 59, empty: [0] },
  { key: 'minute', min: 0, max: 59, empty: [0] },
  { key: 'hour', min: 0, max: 23, empty: [0] },
  { key: 'dayOfMonth', min: 1, max: 31 },
  { key: 'month', min: 1, max: 12, names: MONTHS, base: 1 },
  { key: 'dayOfWeek', min: 0, max: 6, names: DAYS_OF_WEEK, base: 0 },
  { key: 'year', min: 0, max: 0 },
];

/** A calendar as the values each field matches, in FIELDS' order; undefined: every value (a year: any). */
type Canonical = (number[] | undefined)[];

function canonical(calendar: object): Canonical {
  return FIELDS.map((field) => {
    const raw = (calendar as Record<string, unknown>)[field.key] as FieldValue;
    // An empty list is Temporal's default: 0 for second, minute and hour; any for the rest.
    const items = raw === undefined ? [] : raw === '*' ? '*' : Array.isArray(raw) ? raw : [raw];
    if (items === '*' || (items.length === 0 && !field.empty)) return undefined;
    if (items.length === 0) return [...field.empty!];
    const values = new Set<number>();
    const num = (v: number | string) => (typeof v === 'number' ? v : (field.names ?? []).indexOf(v) + (field.base ?? 0));
    for (const item of items) {
      const range = typeof item === 'object' ? item : { start: item };
      const start = num(range.start);
      const end = Math.max(start, range.end === undefined ? start : num(range.end));
      for (let v = start; v <= end; v += Math.max(1, range.step ?? 1)) values.add(v);
    }
    const sorted = [...values].sort((a, b) => a - b);
    const full = field.key !== 'year' && sorted.length === field.max - field.min + 1 && sorted[0] === field.min;
    return full ? undefined : sorted;
  });
}

function specKey(spec: Pick<ScheduleSpecDescription, 'calendars' | 'intervals'> | ScheduleSpec): string {
  const calendars = ((spec.calendars ?? []) as object[]).map((c) => JSON.stringify(canonical(c))).sort();
  // run_on_startup's one instant (an interval that long) is no part of the job's times.
  const intervals = (spec.intervals ?? [])
    .filter((i) => Number(i.every) < ONE_SHOT_EVERY_MS)
    .map((i) => String(Number(i.every)))
    .sort();
  return JSON.stringify([calendars, intervals]);
}

const DAY_OF_MONTH = 3;
const DAY_OF_WEEK = 5;
const YEAR = 6;

/** Cron's "either day" (robfig, Vixie) is two Temporal calendars that differ only in which day field is restricted. */
function mergedDayFields(a: Canonical, b: Canonical): Canonical | undefined {
  const [byMonthDay, byWeekDay] = a[DAY_OF_MONTH] ? [a, b] : [b, a];
  const same = (i: number) => JSON.stringify(a[i]) === JSON.stringify(b[i]);
  if (![0, 1, 2, 4, YEAR].every(same)) return undefined;
  if (!byMonthDay[DAY_OF_MONTH] || byMonthDay[DAY_OF_WEEK] || byWeekDay[DAY_OF_MONTH] || !byWeekDay[DAY_OF_WEEK]) return undefined;
  const merged = [...byMonthDay];
  merged[DAY_OF_WEEK] = byWeekDay[DAY_OF_WEEK];
  return merged;
}

/** `either`: the calendar stands for cron's either-day pair (see mergedDayFields). */
function cronText(calendar: Canonical, either: boolean): string {
  const six = FIELDS.slice(0, YEAR).map((field, i) => fieldText(calendar[i], field.min, field.max));
  // One calendar with both days restricted matches when both do: no cron says that, so it is marked.
  const both = !either && calendar[DAY_OF_MONTH] && calendar[DAY_OF_WEEK] ? ' (day-of-month and day-of-week)' : '';
  const year = calendar[YEAR] ? ` (year ${fieldText(calendar[YEAR], 0, 0)})` : '';
  return `${six.join(' ')}${both}${year}`;
}

function fieldText(values: number[] | undefined, min: number, max: number): string {
  if (values === undefined) return '*';
  if (values.length >= 3) {
    const step = values[1]! - values[0]!;
    if (step > 1 && values.every((v, i) => i === 0 || v - values[i - 1]! === step)) {
      const last = values.at(-1)!;
      return values[0] === min && last + step > max ? `*/${step}` : `${values[0]}-${last}/${step}`;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${values[i]}-${values[j]}`);
    else parts.push(...values.slice(i, j + 1).map(String));
    i = j + 1;
  }
  return parts.join(',');
}

/** Whole seconds as Go writes a duration (robfig's `@every 1h30m`). */
function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || total === 0 ? `${s}s` : ''}`;
}
