import { JobStatus, MEMO_INPUT } from '../shared/job-model.js';
import { JobNameKey, JobStatusKey, UpstreamJobIdKey } from '../shared/search-attributes.js';
import { executionBeganAt, selectBatchPrunable, submitOrderMs, type FinishedExecution } from '../schedules/history-limits.js';
import { closedExecutions, deleteExecutionAndChildren, PRUNE_BUDGET_MS, type PruneDeps } from './delete-execution.js';
import type { PruneBatchInput } from './types.js';
import { unlistedRecentExecutions } from './unlisted-recent-executions.js';
import type { WorkflowExecutionInfo } from '@temporalio/client';

/**
 * A batch job keeps the last `keep` executions of its series (`report_history`): a periodic job's
 * executions, or the jobs of its name submitted on their own. Older ones are deleted with their
 * target jobs, logs and report files, so their series leave /metrics. The execution ending now
 * counts as one of the kept. A periodic job's history limits and failure streak keep theirs.
 */
export async function pruneBatchExecutions(deps: PruneDeps, input: PruneBatchInput): Promise<string[]> {
  const { client } = deps;
  const closed: FinishedExecution[] = [];
  /** The closed run each was listed with: a retry of it begun since is not deleted with it. */
  const runIds = new Map<string, string>();
  // Runs that continued as new are part of their execution, not executions of their own.
  // One periodic job's executions never prune another's, nor the jobs of that name submitted on their own.
  const series = input.upstreamJobId ? `${UpstreamJobIdKey.name} = '${input.upstreamJobId}'` : `${UpstreamJobIdKey.name} IS NULL`;
  const query = `${JobNameKey.name} = '${input.name}' AND ${series} AND TaskQueue = '${input.taskQueue}' AND ExecutionStatus != 'ContinuedAsNew'`;
  const runs: WorkflowExecutionInfo[] = [];
  for await (const listed of client.workflow.list({ query })) {
    if (listed.workflowId !== input.selfId) runs.push(listed);
    if (runs.length > 10_000) break;
  }
  if (input.upstreamJobId) runs.push(...(await unlistedRecentExecutions(client, input.upstreamJobId, runs, input.selfId)));
  for await (const e of closedExecutions(client, runs)) {
    // Ranked by when each began (a fire's nominal time, a job's submit), as the history limits
    // rank them: by close, a long early fire outlived the newer ones that overlapped it.
    const enqueued = (e.memo?.[MEMO_INPUT] as { enqueueTime?: unknown } | undefined)?.enqueueTime;
    const started = e.startTime.getTime();
    const fallback = typeof enqueued === 'number' ? submitOrderMs(enqueued, started) : started;
    runIds.set(e.workflowId, e.runId);
    closed.push({
      id: e.workflowId,
      startedAt: executionBeganAt(e.workflowId, fallback),
      succeeded: e.typedSearchAttributes.get(JobStatusKey) === JobStatus.Success,
    });
  }
  const self = {
    id: input.selfId,
    startedAt: executionBeganAt(input.selfId, input.selfBeganAtMs ?? Date.now()),
    succeeded: input.selfSucceeded ?? false,
  };
  const doomed = selectBatchPrunable(closed, self, input.keep, input.spared);
  const deadline = Date.now() + PRUNE_BUDGET_MS;
  const deleted: string[] = [];
  for (const id of doomed) {
    if (!(await deleteExecutionAndChildren(deps, id, deadline, runIds.get(id)))) break;
    deleted.push(id);
  }
  return deleted;
}
