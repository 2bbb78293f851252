import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

type ListedRun = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'startTime' | 'status'>;

/**
 * Of the runs a listing gave, each id's newest: an operator's reset (or a backfilled fire) starts a
 * new run under the id of a job that stays one job, and the run it replaced is listed beside it
 * until the new run has it deleted. Order as listed.
 */
export function newestRunPerId<T extends ListedRun>(listed: readonly T[]): T[] {
  const newest = new Map<string, T>();
  for (const run of listed) {
    const seen = newest.get(run.workflowId);
    if (!seen || run.startTime.getTime() > seen.startTime.getTime()) newest.set(run.workflowId, run);
  }
  return listed.filter((run) => newest.get(run.workflowId) === run);
}

/**
 * Whether a terminated run has been replaced by a newer run of its id (a reset terminates the run
 * it replaces), which visibility may not list yet: it is no execution of its own, to count as
 * failed or to prune. From the id's current run; false when that read fails.
 */
export async function replacedRun(client: Client, run: ListedRun): Promise<boolean> {
  if (run.status.name !== 'TERMINATED') return false;
  const current = await client.workflow
    .getHandle(run.workflowId)
    .describe()
    .catch(() => undefined);
  return current !== undefined && current.runId !== run.runId;
}
