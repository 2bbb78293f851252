import type { Client } from '@temporalio/client';
import type { JobMetrics } from '../metrics/job-metrics.js';
import { consecutiveFailures, failurePauseNote } from '../schedules/schedule-health.js';
import { changeSchedule } from '../temporal/schedule-write.js';
import type { ScheduleHealthInput, ScheduleHealthResult } from './types.js';

/**
 * Run by an execution that ended in Error: with it, how many failed in a row; at the periodic
 * job's `pause_after_failures`, its schedule is paused with a note saying why. A schedule paused
 * already (by an operator, or stopped) is left as it is.
 */
export async function checkScheduleHealth(
  deps: { client: Client; metrics?: JobMetrics },
  input: ScheduleHealthInput,
): Promise<ScheduleHealthResult> {
  const { client } = deps;
  // The execution running this is not closed yet, so it is not among those counted.
  const failures = 1 + (await consecutiveFailures(client, input.scheduleId, { sincePause: true }));
  if (failures < input.pauseAfter) return { failures, paused: false };
  // Under the schedule's conflict token: a stop landing between the read and the pause stands (a
  // plain pause would replace its note, and the stopped job would read paused, resumable).
  const note = failurePauseNote(failures, input.executionId, input.lastError);
  const after = await changeSchedule(client, input.scheduleId, (schedule) =>
    schedule.state.paused ? undefined : { state: { paused: true, note } },
  );
  const paused = after.state.paused && after.state.note === note;
  if (paused) deps.metrics?.recordSchedulePause(input.jobName);
  return { failures, paused };
}
