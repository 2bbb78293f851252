import { JobNameKey, UpstreamJobIdKey } from '../shared/search-attributes.js';
import { closedExecution, deleteExecutionAndChildren, PRUNE_BUDGET_MS, type PruneDeps } from './delete-execution.js';
import type { PruneBatchInput } from './types.js';

/**
 * A batch job keeps the last `keep` executions of its series (`report_history`): a periodic job's
 * executions, or the jobs of its name submitted on their own. Older ones are deleted with their
 * target jobs, logs and report files, so their series leave /metrics. The execution ending now
 * counts as one of the kept.
 */
export async function pruneBatchExecutions(deps: PruneDeps, input: PruneBatchInput): Promise<string[]> {
  const { client } = deps;
  const closed: { id: string; closedAt: number }[] = [];
  // Runs that continued as new are part of their execution, not executions of their own.
  // One periodic job's executions never prune another's, nor the jobs of that name submitted on their own.
  const series = input.upstreamJobId ? `${UpstreamJobIdKey.name} = '${input.upstreamJobId}'` : `${UpstreamJobIdKey.name} IS NULL`;
  const query = `${JobNameKey.name} = '${input.name}' AND ${series} AND TaskQueue = '${input.taskQueue}' AND ExecutionStatus != 'ContinuedAsNew'`;
  for await (const listed of client.workflow.list({ query })) {
    if (listed.workflowId === input.selfId) continue;
    const e = await closedExecution(client, listed);
    if (!e) continue;
    closed.push({ id: e.workflowId, closedAt: (e.closeTime ?? e.startTime).getTime() });
    if (closed.length > 10_000) break;
  }
  const doomed = closed
    .sort((a, b) => b.closedAt - a.closedAt)
    .slice(Math.max(0, input.keep - 1))
    .map((e) => e.id);
  const deadline = Date.now() + PRUNE_BUDGET_MS;
  const deleted: string[] = [];
  for (const id of doomed) {
    if (!(await deleteExecutionAndChildren(deps, id, deadline))) break;
    deleted.push(id);
  }
  return deleted;
}
