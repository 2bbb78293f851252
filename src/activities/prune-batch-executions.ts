import { rm } from 'node:fs/promises';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { removeBatchFiles } from '../jobs/batch/batch-files.js';
import { mapLimit } from '../retention/limits.js';
import { jobLogPath } from '../logs/job-log-path.js';
import { JobNameKey, UpstreamJobIdKey } from '../shared/search-attributes.js';
import type { PruneBatchInput } from './types.js';

const GRPC_NOT_FOUND = 5;

/**
 * A batch job keeps its last `keep` executions (`report_history`): older ones are deleted with
 * their target jobs, logs and report files, so their series leave /metrics. The execution ending
 * now counts as one of the kept.
 */
export async function pruneBatchExecutions(deps: { client: Client; logDir?: string }, input: PruneBatchInput): Promise<string[]> {
  const { client } = deps;
  const closed: { id: string; closedAt: number }[] = [];
  // Runs that continued as new are part of their execution, not executions of their own.
  const query = `${JobNameKey.name} = '${input.name}' AND TaskQueue = '${input.taskQueue}' AND ExecutionStatus != 'ContinuedAsNew'`;
  for await (const listed of client.workflow.list({ query })) {
    if (listed.workflowId === input.selfId) continue;
    // Visibility lags: one it still shows running is described, so a predecessor that has just closed counts.
    const e =
      listed.status.name === 'RUNNING'
        ? await client.workflow
            .getHandle(listed.workflowId)
            .describe()
            .catch(() => undefined)
        : listed;
    if (!e || e.status.name === 'RUNNING') continue;
    closed.push({ id: e.workflowId, closedAt: (e.closeTime ?? e.startTime).getTime() });
    if (closed.length > 10_000) break;
  }
  const doomed = closed
    .sort((a, b) => b.closedAt - a.closedAt)
    .slice(Math.max(0, input.keep - 1))
    .map((e) => e.id);
  const remove = async (id: string) => {
    try {
      await client.workflowService.deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId: id } });
    } catch (err) {
      if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
    }
    if (!deps.logDir) return;
    const log = jobLogPath(deps.logDir, id);
    if (log) await rm(log, { force: true });
    await removeBatchFiles(deps.logDir, id);
  };
  for (const id of doomed) {
    const children: string[] = [];
    for await (const child of client.workflow.list({ query: `${UpstreamJobIdKey.name} = '${id}'` })) children.push(child.workflowId);
    // Deletes wait on the server's checkpoint of each close; a few at a time keep a large execution quick to prune.
    await mapLimit(children, 8, remove);
    await remove(id);
  }
  return doomed;
}
