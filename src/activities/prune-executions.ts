import { rm } from 'node:fs/promises';
import { isGrpcServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { jobLogPath } from '../logs/job-log-path.js';
import { JobStatus } from '../shared/job-model.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { MAX_HISTORY_LIMIT, selectPrunable, type FinishedExecution } from '../schedules/history-limits.js';
import type { PruneExecutionsInput } from './types.js';

export interface PruneDeps {
  client: Client;
  /** The FILE job logger's directory, when there is one: a deleted execution's log goes too. */
  logDir?: string;
}

const GRPC_NOT_FOUND = 5;

/** Listing is bounded because the pruner itself keeps the list short; a backlog drains over a few runs. */
/** Both limits at their largest, so whatever the limits, every execution they keep is seen. */
const MAX_LISTED = 2 * MAX_HISTORY_LIMIT;

/**
 * Deletes a periodic job's executions beyond its history limits, oldest first, with their logs.
 * Visibility lags behind: an execution it still shows as running is described (which reads the
 * execution itself) so a predecessor that has just closed is counted at once.
 */
export async function pruneExecutions(deps: PruneDeps, input: PruneExecutionsInput): Promise<string[]> {
  const { client } = deps;
  const finished: FinishedExecution[] = [];
  let listed = 0;
  for await (const info of client.workflow.list({ query: `TemporalScheduledById = '${input.upstreamJobId}'` })) {
    if (++listed > MAX_LISTED) break;
    if (info.workflowId === input.self.id) continue;
    const current: ExecutionView | undefined = info.status.name === 'RUNNING' ? await refreshed(client, info) : info;
    if (!current || current.status.name === 'RUNNING') continue;
    finished.push({
      id: current.workflowId,
      startedAt: current.startTime.getTime(),
      succeeded: current.typedSearchAttributes.get(JobStatusKey) === JobStatus.Success,
    });
  }
  const doomed = selectPrunable(finished, input.self, input.limits);
  for (const id of doomed) {
    try {
      await client.workflowService.deleteWorkflowExecution({
        namespace: client.options.namespace,
        workflowExecution: { workflowId: id },
      });
    } catch (err) {
      // Deleted already (by an overlapping execution's pruner, or an operator): nothing to do.
      if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
    }
    const log = deps.logDir ? jobLogPath(deps.logDir, id) : undefined;
    if (log) await rm(log, { force: true });
  }
  return doomed;
}

type ExecutionView = Pick<WorkflowExecutionInfo, 'workflowId' | 'startTime' | 'status' | 'typedSearchAttributes'>;

async function refreshed(client: Client, info: WorkflowExecutionInfo): Promise<ExecutionView | undefined> {
  try {
    return await client.workflow.getHandle(info.workflowId, info.runId).describe();
  } catch {
    return undefined;
  }
}
