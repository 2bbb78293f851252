import { patched, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { HookTimings } from '../shared/hook-event.js';
import { JobKind, JobStatus, MEMO_PAUSED_SCHEDULE, type JobInput, type JobState } from '../shared/job-model.js';
import { executionAlias } from '../shared/job-id.js';
import { limitsKeepingStreak, limitsSparedByReportHistory, submitOrderMs, type HistoryLimits } from '../schedules/history-limits.js';
import { handOverHooks } from './hook-delivery-workflow.js';
import type { HookOutbox } from './hook-outbox.js';
import type { RunActivities } from './run-activities.js';

/** What a job's ending reads of its run. */
export interface Ending {
  readonly input: JobInput;
  readonly state: JobState;
  readonly outbox: HookOutbox | undefined;
  readonly hookTimings: HookTimings;
  /** A batch job's report history, known once it has planned. */
  readonly reportHistory: number | undefined;
}

/** Whether the ending has anything to do: most jobs have no hooks, no history limits and no batch reports. */
export function hasWrapUp(run: Ending): boolean {
  return run.outbox !== undefined || prunesHistory(run) || checksScheduleHealth(run) || run.reportHistory !== undefined;
}

/**
 * What every ending does once the status is final: hooks handed on, history pruned. Without
 * `drain`, hooks still undelivered are handed on at once (the workflow was cancelled meanwhile,
 * so its own deliveries have stopped).
 */
export async function wrapUp(run: Ending, housekeeping: RunActivities['housekeeping'], drain: boolean): Promise<void> {
  const { input } = run;
  const timings = drain ? run.hookTimings : { ...run.hookTimings, drainMs: 0 };
  if (run.outbox) await handOverHooks(run.outbox, timings, input, run.state.revision);
  if (prunesHistory(run)) await pruneHistory(run, housekeeping);
  if (checksScheduleHealth(run)) await checkScheduleHealth(run, housekeeping);
  if (run.reportHistory !== undefined) {
    // Housekeeping must never change how the job ended.
    await housekeeping
      .pruneBatchExecutions({
        name: input.name,
        selfId: input.id,
        keep: run.reportHistory,
        selfSucceeded: run.state.status === JobStatus.Success,
        // As the pruner orders the others.
        selfBeganAtMs: submitOrderMs(input.enqueueTime, workflowInfo().startTime.getTime()),
        taskQueue: workflowInfo().taskQueue,
        ...(input.upstreamJobId ? { upstreamJobId: input.upstreamJobId, ...sparedByReportHistory(input) } : {}),
      })
      .catch(() => undefined);
  }
}

/** Absent from the activity's input when nothing is spared. */
function sparedByReportHistory(input: JobInput): { spared?: HistoryLimits } {
  const spared = limitsSparedByReportHistory(input.historyLimits, input.pauseAfterFailures);
  return spared ? { spared } : {};
}

function checksScheduleHealth({ input, state }: Ending): boolean {
  return input.upstreamJobId !== undefined && input.pauseAfterFailures !== undefined && state.status === JobStatus.Error;
}

/** A failed execution of a periodic job with `pause_after_failures` counts its streak; at the limit the schedule pauses. */
async function checkScheduleHealth({ input, state }: Ending, housekeeping: RunActivities['housekeeping']): Promise<void> {
  // wrapUp calls this only when checksScheduleHealth holds; the test narrows the types.
  if (!input.upstreamJobId || input.pauseAfterFailures === undefined) return;
  // Housekeeping must never change how the job ended.
  const health = await housekeeping
    .checkScheduleHealth({
      scheduleId: input.upstreamJobId,
      jobName: input.name,
      executionId: executionAlias(input.id) ?? input.id,
      ...(state.last_error !== undefined ? { lastError: state.last_error } : {}),
      pauseAfter: input.pauseAfterFailures,
    })
    .catch(() => undefined);
  // The streak that paused the schedule ends here: once resumed, the job gets as many failures again.
  if (health?.paused && patched('failure-pause-ends-the-streak')) upsertMemo({ [MEMO_PAUSED_SCHEDULE]: true });
}

function prunesHistory({ input }: Ending): boolean {
  return input.upstreamJobId !== undefined && input.historyLimits !== undefined && input.kind === JobKind.Scheduled;
}

/** A periodic job's execution, as it ends, deletes the executions beyond the job's history limits. */
async function pruneHistory({ input, state }: Ending, housekeeping: RunActivities['housekeeping']): Promise<void> {
  // wrapUp calls this only when prunesHistory holds; the test narrows the types.
  if (!input.upstreamJobId || !input.historyLimits) return;
  const info = workflowInfo();
  const self = { id: input.id, runId: info.runId, startedAt: info.startTime.getTime(), succeeded: state.status === JobStatus.Success };
  // Housekeeping must never change how the job ended.
  await housekeeping
    .pruneExecutions({
      upstreamJobId: input.upstreamJobId,
      self,
      limits: limitsKeepingStreak(input.historyLimits, input.pauseAfterFailures),
    })
    .catch(() => undefined);
}
