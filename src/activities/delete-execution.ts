import { rm } from 'node:fs/promises';
import { isGrpcServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { removeBatchFiles } from '../jobs/batch/batch-files.js';
import { jobLogPath } from '../logs/job-log-path.js';
import { executionNow } from '../temporal/execution-now.js';

export interface PruneDeps {
  client: Client;
  /** The FILE job logger's directory, when there is one: a deleted execution's log and files go too. */
  logDir?: string;
}

const GRPC_NOT_FOUND = 5;

/** Deletes one job's workflow execution with its log and report files; one already deleted (by another pruner, an operator) is fine. */
export async function deleteJobExecution(deps: PruneDeps, id: string): Promise<void> {
  const { client } = deps;
  try {
    await client.workflowService.deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId: id } });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
  }
  if (!deps.logDir) return;
  const log = jobLogPath(deps.logDir, id);
  if (log) await rm(log, { force: true });
  await removeBatchFiles(deps.logDir, id);
}

export type ExecutionView = Pick<WorkflowExecutionInfo, 'workflowId' | 'startTime' | 'closeTime' | 'status' | 'typedSearchAttributes'>;

/** A listed execution as it is now (see executionNow), or undefined while it still runs. */
export async function closedExecution(client: Client, listed: WorkflowExecutionInfo): Promise<ExecutionView | undefined> {
  const current = await executionNow(client, listed);
  return current && current.status.name !== 'RUNNING' ? current : undefined;
}
