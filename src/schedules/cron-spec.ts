import type { CalendarSpec, DayOfWeek, IntervalSpec, Month, Range } from '@temporalio/client';

/**
 * Harbor's `cron_spec` (robfig/cron: six fields, seconds first), standard five-field specs, the
 * macros and `@every <duration>`, translated into Temporal schedule specs.
 *
 * Never hand a cron string to Temporal as is: Temporal reads six fields as minute…year, treats `#`
 * as the start of a comment, and ANDs day-of-month with day-of-week. Here, when both day fields are
 * restricted a time matches either (classic cron), which takes two calendars.
 */
export type ScheduleTimes = { calendars: CalendarSpec[] } | { intervals: IntervalSpec[] };

export class CronSpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`cron_spec ${field}: ${message}`);
    this.name = 'CronSpecError';
  }
}

const MONTHS: readonly Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAYS: readonly DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Offset of names[0] (JAN = 1, SUN = 0). */
  nameBase?: number;
}

const FIELDS = {
  second: { name: 'second', min: 0, max: 59 },
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31 },
  month: { name: 'month', min: 1, max: 12, names: MONTHS.map((m) => m.slice(0, 3)), nameBase: 1 },
  // 7 is Sunday too, as in robfig and Vixie cron.
  dayOfWeek: { name: 'day-of-week', min: 0, max: 7, names: DAYS.map((d) => d.slice(0, 3)), nameBase: 0 },
} satisfies Record<string, FieldDef>;

const MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

/**
 * robfig/cron's zone prefix (`CRON_TZ=Asia/Tokyo 0 30 9 * * *`, or `TZ=`), which Harbor's cron
 * parser takes: the zone, and the spec without it.
 */
export function splitCronZone(spec: string): { zone?: string; rest: string } {
  const prefixed = /^\s*(?:CRON_TZ|TZ)=(\S+)\s+([\s\S]*)$/.exec(spec);
  return prefixed ? { zone: prefixed[1]!, rest: prefixed[2]! } : { rest: spec };
}

export function parseCronSpec(spec: string): ScheduleTimes {
  const text = splitCronZone(spec).rest.trim();
  if (text === '') throw new CronSpecError('spec', 'is empty');
  if (text.startsWith('@every')) return { intervals: [{ every: parseEvery(text.slice('@every'.length).trim()) }] };
  if (text.startsWith('@')) {
    const expanded = MACROS[text.toLowerCase()];
    if (!expanded) throw new CronSpecError('spec', `unknown macro ${text}; known: ${Object.keys(MACROS).join(', ')}, @every <duration>`);
    return parseFields(expanded);
  }
  return parseFields(text);
}

function parseFields(text: string): ScheduleTimes {
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronSpecError(
      'spec',
      `has ${parts.length} fields; expected 6 (second minute hour day-of-month month day-of-week) or 5 (without seconds)`,
    );
  }
  // robfig/cron (which Harbor core checks crons with) reads a leading '?' as '*', Quartz's "no specific value".
  const [second, minute, hour, dom, month, dow] = (parts.length === 6 ? parts : ['0', ...parts]).map((f) =>
    f
      .split(',')
      .map((item) => (item.startsWith('?') ? `*${item.slice(1)}` : item))
      .join(','),
  );
  const base = {
    second: field(second!, FIELDS.second),
    minute: field(minute!, FIELDS.minute),
    hour: field(hour!, FIELDS.hour),
    month: namedValues(month!, FIELDS.month, (n) => MONTHS[n - 1]!),
    year: '*' as const,
  };
  const dayOfMonth = field(dom!, FIELDS.dayOfMonth);
  const dayOfWeek = namedValues(dow!, FIELDS.dayOfWeek, (n) => DAYS[n % 7]!);
  // robfig/cron: a day field with a bare '*' item (or '*/1') does not restrict; a stepped '*' does
  // ('*/2' is every other day); both restricted means either.
  const domRestricted = restricts(dom!);
  const dowRestricted = restricts(dow!);
  if (domRestricted && !dowRestricted) neverEmpty(dom!, month!);
  if (domRestricted && dowRestricted) {
    return {
      calendars: [
        { ...base, dayOfMonth, dayOfWeek: '*' },
        { ...base, dayOfMonth: '*', dayOfWeek },
      ],
    };
  }
  return {
    calendars: [{ ...base, dayOfMonth: domRestricted ? dayOfMonth : '*', dayOfWeek: dowRestricted ? dayOfWeek : '*' }],
  };
}

/** Days in each month at most (February in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A day of the month no month given has (`0 0 0 31 2 *`) would never fire: refused, where robfig/cron would wait forever. */
function neverEmpty(dom: string, month: string): void {
  const days = new Set<number>();
  for (const item of dom.split(',')) {
    const { start, end, step } = item_(item, FIELDS.dayOfMonth);
    for (let d = start; d <= end; d += step) days.add(d);
  }
  const months = new Set<number>();
  for (const item of month.split(',')) {
    const { start, end, step } = item_(item, FIELDS.month);
    for (let m = start; m <= end; m += step) months.add(m);
  }
  const earliest = Math.min(...days);
  if ([...months].every((m) => earliest > MONTH_DAYS[m - 1]!)) {
    throw new CronSpecError('day-of-month', `${dom} never falls in month ${month}: the job would never run`);
  }
}

/** Whether a day field narrows the days, as robfig/cron's star bit says: no item is '*' with a step of at most one. */
function restricts(text: string): boolean {
  return !text.split(',').some((item) => /^\*(\/0*1)?$/.test(item));
}

/** One numeric field as Temporal ranges. */
function field(text: string, def: FieldDef): Range<number>[] | '*' {
  if (text === '*') return '*';
  return text.split(',').map((item) => {
    const { start, end, step } = item_(item, def);
    return { start, end, step };
  });
}

/** Month and day-of-week as explicit values (small sets), so names and 7 = Sunday need no range maths. */
function namedValues<T>(text: string, def: FieldDef, toName: (n: number) => T): T[] | '*' {
  if (text === '*') return '*';
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const { start, end, step } = item_(item, def);
    for (let v = start; v <= end; v += step) values.add(def === FIELDS.dayOfWeek ? v % 7 : v);
  }
  return [...values].sort((a, b) => a - b).map(toName);
}

function item_(item: string, def: FieldDef): { start: number; end: number; step: number } {
  if (item === '') throw new CronSpecError(def.name, 'has an empty list item');
  const bad = /[LW?#H]/i.exec(item.replace(/[A-Z]{3}/gi, (m) => (def.names?.includes(m.toUpperCase()) ? '' : m)));
  if (bad) throw new CronSpecError(def.name, `'${bad[0]}' is not supported (in ${JSON.stringify(item)})`);
  const [rangePart, stepPart, extra] = item.split('/');
  if (extra !== undefined) throw new CronSpecError(def.name, `${JSON.stringify(item)} has more than one '/'`);
  let step = 1;
  if (stepPart !== undefined) {
    if (!/^\d+$/.test(stepPart) || Number(stepPart) < 1) {
      throw new CronSpecError(def.name, `step ${JSON.stringify(stepPart)} must be a positive whole number`);
    }
    // A step past the field's span matches its start alone (robfig's reading): kept at the span,
    // as Temporal takes a step as an int32 and a larger one would wrap (2^32 reads as 1).
    step = Math.min(Number(stepPart), def.max - def.min + 1);
  }
  let start: number;
  let end: number;
  if (rangePart === '*') {
    start = def.min;
    end = def === FIELDS.dayOfWeek ? 6 : def.max;
  } else {
    const bounds = rangePart!.split('-');
    if (bounds.length > 2) throw new CronSpecError(def.name, `${JSON.stringify(item)} has more than one '-'`);
    start = value(bounds[0]!, def);
    // `a/n` runs from a to the end of the field: Saturday for days of the week, as robfig's 0-6
    // (7 for Sunday is taken as a value, and a step landing on it would add a Sunday robfig has not).
    const fieldEnd = def === FIELDS.dayOfWeek ? 6 : def.max;
    end = bounds.length === 2 ? value(bounds[1]!, def) : stepPart !== undefined ? Math.max(start, fieldEnd) : start;
    if (end < start) throw new CronSpecError(def.name, `range ${JSON.stringify(item)} runs backwards`);
  }
  return { start, end, step };
}

function value(text: string, def: FieldDef): number {
  const index = def.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return index + (def.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new CronSpecError(def.name, `${JSON.stringify(text)} is not a number${def.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < def.min || n > def.max) throw new CronSpecError(def.name, `${n} is out of range ${def.min}-${def.max}`);
  return n;
}

/**
 * An interval this long matches once in the life of any schedule we make (run_on_startup's one
 * instant): fifty years, the longest `@every` taken. The server computes no next time for an
 * interval of a hundred (measured on the dev server; 2^31 seconds, 68 years, is the likely bound).
 */
export const ONE_SHOT_EVERY_MS = 50 * 365 * 86_400_000;
const MAX_EVERY_MS = ONE_SHOT_EVERY_MS;

/** Go-style durations as robfig's `@every` takes them (`90s`, `1h30m`), in whole seconds of at least one. */
function parseEvery(text: string): number {
  if (!/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(text)) {
    throw new CronSpecError('@every', `${JSON.stringify(text)} is not a duration like 30s, 5m or 1h30m`);
  }
  // In nanoseconds with whole numbers, as Go's time.ParseDuration reads it (a fraction truncated
  // to the nanosecond): 4.1m is 246 s exactly, which floating point would make 245.99999….
  const unitNs: Record<string, bigint> = { h: 3_600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n, ms: 1_000_000n };
  let ns = 0n;
  for (const [, whole, fraction = '', u] of text.matchAll(/(\d+)(?:\.(\d+))?(ms|h|m|s)/g)) {
    const perUnit = unitNs[u!]!;
    ns += BigInt(whole!) * perUnit + (BigInt(fraction || '0') * perUnit) / 10n ** BigInt(fraction.length);
  }
  if (ns < 1_000_000_000n || ns % 1_000_000_000n !== 0n) throw new CronSpecError('@every', `${text} must be whole seconds, at least 1s`);
  const ms = ns > BigInt(MAX_EVERY_MS) * 1_000_000n ? Infinity : Number(ns / 1_000_000n);
  // Accepted, a longer one would never fire: Temporal's scheduler computes no next time that far
  // apart (none for a century on the dev server; fifty years is what the run_on_startup interval uses).
  if (ms > MAX_EVERY_MS) throw new CronSpecError('@every', `${text} is longer than 50 years (438000h): it would never fire`);
  return ms;
}
