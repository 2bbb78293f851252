import { patched } from '@temporalio/workflow';
import { hookEvent } from '../shared/hook-event.js';
import { JobStatus, toStats, type JobState } from '../shared/job-model.js';
import type { JobRun } from './job-run.js';

/** As Harbor's status write stamps it: the change is now (the state's own time is its last status's). */
const changedNow = (state: JobState) => Math.max(state.update_time, Math.floor(Date.now() / 1000));

/** Hooks Harbor posts for a run that this service's status does not show (replay: not before). */
const EVERY_RUN_POSTS_ITS_HOOKS = 'every-run-posts-its-hooks';

/**
 * Harbor posts `Running` before a run's code starts, whatever the run does next. Here a run reports
 * Running only once it has lasted `running_report_delay_ms` or checked in (a short job never), so a
 * run whose code ended sooner posts its Running now, before the status it ends with.
 */
export function postRunningIfUnreported(run: JobRun): void {
  const { outbox, state, input } = run;
  if (!outbox || (state.status !== JobStatus.Pending && state.status !== JobStatus.Scheduled)) return;
  if (!patched(EVERY_RUN_POSTS_ITS_HOOKS)) return;
  outbox.push(hookEvent(toStats(input, { ...state, status: JobStatus.Running, update_time: changedNow(state) })));
}

/**
 * A failed run that will be retried posts `Error` under its revision, as Harbor's `Fail()` does
 * before its retry resets the job to Pending under a new one (which posts nothing). The job's own
 * status goes straight to Pending: it is not in error while a retry is due.
 */
export function postErrorOfRetriedRun(run: JobRun): void {
  const { outbox, state, input } = run;
  if (!outbox || !patched(EVERY_RUN_POSTS_ITS_HOOKS)) return;
  outbox.push(hookEvent(toStats(input, { ...state, status: JobStatus.Error, update_time: changedNow(state) })));
}
