import { JobStatusKey, periodicExecutionsQuery } from '../shared/search-attributes.js';
import { JobStatus, MEMO_PAUSED_SCHEDULE } from '../shared/job-model.js';
import { executionBeganAt } from './history-limits.js';
import type { Client } from '@temporalio/client';
import { replacedRun } from '../temporal/current-runs.js';

/** Enough to tell any sensible `pause_after_failures`; a longer streak reads as this many. */
export const MAX_COUNTED_FAILURES = 100;

/**
 * Executions of a periodic job that failed in a row, most recent first, from visibility (closed
 * executions come newest-closed first). A job ending in Error fails its workflow; one that timed
 * out counts too; anything else ends the streak. `sincePause`: so does the failure that paused the
 * schedule for its streak (what pause_after_failures counts). Still-running executions are not
 * counted, but one that succeeded ends the streak of those fired before it.
 */
export async function consecutiveFailures(client: Client, scheduleId: string, { sincePause = false } = {}): Promise<number> {
  const query = `${periodicExecutionsQuery(scheduleId)} AND ExecutionStatus != 'Running'`;
  // A run an operator's reset replaced is no execution of its own: an id running again (a reset
  // re-run), an id already seen (listed newest-closed first), a terminated run that is not its id's current.
  const rerunning = new Set<string>();
  // A success whose workflow is still open (handing its hooks over) ends the streak of the
  // failures fired before it, though it is not among the closed yet.
  let openSuccessFiredAt = -Infinity;
  for await (const run of client.workflow.list({ query: `${periodicExecutionsQuery(scheduleId)} AND ExecutionStatus = 'Running'` })) {
    rerunning.add(run.workflowId);
    if (run.typedSearchAttributes.get(JobStatusKey) === JobStatus.Success)
      openSuccessFiredAt = Math.max(openSuccessFiredAt, executionBeganAt(run.workflowId, run.startTime.getTime()));
  }
  const seen = new Set<string>();
  let failures = 0;
  for await (const execution of client.workflow.list({ query, pageSize: MAX_COUNTED_FAILURES })) {
    const again = seen.has(execution.workflowId) || rerunning.has(execution.workflowId);
    seen.add(execution.workflowId);
    if (again || (await replacedRun(client, execution))) continue;
    if (execution.status.name !== 'FAILED' && execution.status.name !== 'TIMED_OUT') break;
    if (executionBeganAt(execution.workflowId, execution.startTime.getTime()) < openSuccessFiredAt) break;
    // The failure that paused the schedule (pause_after_failures) ends the streak: after a resume
    // (through the API or `temporal schedule toggle --unpause`) the count starts again.
    if (sincePause && execution.memo?.[MEMO_PAUSED_SCHEDULE] === true) break;
    if (++failures >= MAX_COUNTED_FAILURES) break;
  }
  return failures;
}

/** The note a schedule paused for its failures carries: the Web UI and `temporal schedule describe` show it. */
export function failurePauseNote(failures: number, lastExecution: string, lastError: string | undefined): string {
  const why = lastError ? `: ${lastError.slice(0, 200)}` : '';
  return `paused after ${failures} failed executions in a row (pause_after_failures); last ${lastExecution}${why}`;
}
