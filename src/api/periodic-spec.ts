import type { ScheduleSpec } from '@temporalio/client';
import { ONE_SHOT_EVERY_MS, type parseCronSpec } from '../schedules/cron-spec.js';
import type { HistoryLimits } from '../schedules/history-limits.js';
import { DEFAULT_HOOK_TIMINGS } from '../shared/hook-event.js';
import type { JobTimings } from '../shared/job-model.js';
import { badRequest } from './api-error.js';
import type { PeriodicOptions } from './periodic-record.js';

/**
 * The server's refusal of a spec the request schema let through (a time zone alias Go does not
 * know in that case), which the SDK throws as a TypeError with the server's reason: a 400.
 */
export async function refusedSpecIsBadRequest<T>(created: Promise<T>): Promise<T> {
  try {
    return await created;
  } catch (err) {
    if (err instanceof TypeError) throw badRequest(`metadata: Temporal refused the schedule: ${err.message}`);
    throw err;
  }
}

/**
 * Forbid skips a fire while the last execution's workflow is open, and Replace starts the next one
 * only once the cancelled one's workflow has closed; a finished execution keeps it open for
 * `hook_drain_ms` while its last hooks fail. Under either they go to a HookDelivery workflow at
 * once, so a receiver that is down never holds back the next fire.
 */
export function nextFireNeverWaitsOnHooks(timings: JobTimings, options: PeriodicOptions): JobTimings {
  if (options.concurrency_policy !== 'Forbid' && options.concurrency_policy !== 'Replace') return timings;
  return { ...timings, hooks: { ...(timings.hooks ?? DEFAULT_HOOK_TIMINGS), drainMs: 0 } };
}

/** The Temporal spec of a periodic job: its translated cron times, in its zone, with its jitter. */
export function scheduleSpec(times: ReturnType<typeof parseCronSpec>, options: PeriodicOptions, now = new Date()): ScheduleSpec {
  // Harbor's cron library counts `@every` from when the job was added, not from the epoch: the phase is now.
  const intervals =
    'intervals' in times ? times.intervals.map((i) => ({ ...i, offset: (Math.floor(now.getTime() / 1000) * 1000) % Number(i.every) })) : [];
  if (options.run_on_startup) intervals.push(startupInterval(now, options.startup_delay ?? 0));
  const calendars = 'calendars' in times ? times.calendars : [];
  return {
    ...times,
    ...(intervals.length > 0 ? { intervals } : {}),
    ...(calendars.length > 0 ? { calendars } : {}),
    ...(options.timezone ? { timezone: options.timezone } : {}),
    ...(options.jitter_seconds ? { jitter: options.jitter_seconds * 1000 } : {}),
  };
}

/**
 * run_on_startup: one instant, `startup_delay` seconds on, at a whole second at least a second
 * away (the schedule must exist before it: an instant already past never fires). An interval,
 * not a calendar: intervals count from the epoch whatever the zone, where a calendar's wall-clock
 * fields would match twice in the hour a fall-back day repeats.
 */
function startupInterval(now: Date, delaySeconds: number): { every: number; offset: number } {
  let atMs = Math.ceil((now.getTime() + delaySeconds * 1000) / 1000) * 1000;
  if (atMs - now.getTime() < 1000) atMs += 1000;
  return { every: ONE_SHOT_EVERY_MS, offset: atMs % ONE_SHOT_EVERY_MS };
}

export function historyLimits(options: PeriodicOptions): HistoryLimits | undefined {
  const limits: HistoryLimits = {};
  if (options.successful_jobs_history_limit !== undefined) limits.successful = options.successful_jobs_history_limit;
  if (options.failed_jobs_history_limit !== undefined) limits.failed = options.failed_jobs_history_limit;
  return Object.keys(limits).length > 0 ? limits : undefined;
}
