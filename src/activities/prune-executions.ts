import { JobStatus } from '../shared/job-model.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { MAX_HISTORY_LIMIT, selectPrunable, type FinishedExecution } from '../schedules/history-limits.js';
import { closedExecution, deleteJobExecution, type PruneDeps } from './delete-execution.js';
import type { PruneExecutionsInput } from './types.js';

/** Both limits at their largest, so whatever the limits, every execution they keep is seen; a backlog drains over a few runs. */
const MAX_LISTED = 2 * MAX_HISTORY_LIMIT;

/** Deletes a periodic job's executions beyond its history limits, oldest first, with their logs. */
export async function pruneExecutions(deps: PruneDeps, input: PruneExecutionsInput): Promise<string[]> {
  const { client } = deps;
  const finished: FinishedExecution[] = [];
  let listed = 0;
  for await (const info of client.workflow.list({ query: `TemporalScheduledById = '${input.upstreamJobId}'` })) {
    if (++listed > MAX_LISTED) break;
    if (info.workflowId === input.self.id) continue;
    const current = await closedExecution(client, info);
    if (!current) continue;
    finished.push({
      id: current.workflowId,
      startedAt: current.startTime.getTime(),
      succeeded: current.typedSearchAttributes.get(JobStatusKey) === JobStatus.Success,
    });
  }
  const doomed = selectPrunable(finished, input.self, input.limits);
  for (const id of doomed) await deleteJobExecution(deps, id);
  return doomed;
}
