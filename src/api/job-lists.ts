import type { Client } from '@temporalio/client';
import { JobStatus, toStats, type JobStats } from '../shared/job-model.js';
import { jobsOfTaskQueue } from '../shared/job-start.js';
import { NOT_FINAL_STATUS, periodicExecutionsQuery, UNFINISHED_JOBS } from '../shared/search-attributes.js';
import { jobView, reconcile } from '../views/job-view.js';
import { boundedRpc } from './bounded-rpc.js';
import type { ListJobsQuery } from './contract.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';
import { readPage, type Listed } from './visibility-page.js';

/** Ids of a periodic job's executions still running. */
export async function runningExecutions(client: Client, periodicId: string): Promise<string[]> {
  const ids: string[] = [];
  const query = `${periodicExecutionsQuery(periodicId)} AND ${UNFINISHED_JOBS}`;
  await boundedRpc(client, async () => {
    for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
  });
  return ids;
}

export async function jobPage(client: Client, visibilityQuery: string, skip: number, pageSize: number): Promise<Listed<JobStats>> {
  const { count } = await boundedRpc(client, () => client.workflow.count(visibilityQuery));
  const retention = await namespaceRetentionSeconds(client);
  const { jobs, nextCursor } = await boundedRpc(client, () =>
    readPage(
      count,
      skip,
      pageSize,
      (serverPageSize) => client.workflow.list({ query: visibilityQuery, pageSize: serverPageSize }),
      (execution) => {
        const view = jobView(execution.memo, execution.workflowId, execution.startTime);
        return view
          ? withDieAt(
              reconcile(toStats(view.input, view.state), execution.status.name, execution.closeTime),
              execution.closeTime,
              retention,
            )
          : undefined;
      },
    ),
  );
  return { total: count, jobs, nextCursor };
}

/** A finished job's record is Temporal's until the namespace's retention runs out: that is when it dies. */
export function withDieAt(stats: JobStats, closeTime: Date | undefined, retentionSeconds: number | undefined): JobStats {
  if (!closeTime || retentionSeconds === undefined) return stats;
  return { ...stats, die_at: Math.floor(closeTime.getTime() / 1000) + retentionSeconds };
}

export function listQuery(taskQueue: string, query: ListJobsQuery): string {
  // A run that continued as new (a long fan-out) is not a job of its own: its execution goes on.
  const clauses = [jobsOfTaskQueue(taskQueue), `ExecutionStatus != 'ContinuedAsNew'`];
  // Values are validated enums or upper-snake names, so they cannot break out of the quotes.
  if (query.name) clauses.push(`JobName = '${query.name}'`);
  if (query.kind) clauses.push(`JobKind = '${query.kind}'`);
  if (query.status) clauses.push(statusClause(query.status));
  return clauses.join(' AND ');
}

/**
 * The visibility filter for a status, as `reconcile` reads a row: the job's own status once it is
 * final (a workflow closed from outside after that, while it drained its hooks or outlived an
 * abandoned run, keeps it), and the execution's status for a workflow closed before its job was.
 */
function statusClause(status: JobStatus): string {
  const closedEarly = (executionStatuses: string) => `(ExecutionStatus IN (${executionStatuses}) AND ${NOT_FINAL_STATUS})`;
  switch (status) {
    case JobStatus.Stopped:
      return `(JobStatus = 'Stopped' OR ${closedEarly(`'Terminated'`)})`;
    case JobStatus.Cancelled:
      return `(JobStatus = 'Cancelled' OR ${closedEarly(`'Canceled'`)})`;
    case JobStatus.Error:
      return `(JobStatus = 'Error' OR ${closedEarly(`'Failed', 'TimedOut'`)})`;
    case JobStatus.Success:
      return `(JobStatus = 'Success' OR ${closedEarly(`'Completed'`)})`;
    default:
      return `(JobStatus = '${status}' AND ExecutionStatus = 'Running')`;
  }
}
