import { rm } from 'node:fs/promises';
import { isGrpcServiceError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { removeBatchFiles } from '../jobs/batch/batch-files.js';
import { jobLogPath } from '../logs/job-log-path.js';
import { executionNow } from '../temporal/execution-now.js';
import { newestRunPerId, replacedRun } from '../temporal/current-runs.js';
import { mapLimit } from '../process/limits.js';
import { UpstreamJobIdKey } from '../shared/search-attributes.js';

export interface PruneDeps {
  client: Client;
  /** The FILE job logger's directory, when there is one: a deleted execution's log and files go too. */
  logDir?: string;
  /** Every FILE job logger's directory (each keeps a copy of a job's log), when there are several. */
  logDirs?: readonly string[];
}

const GRPC_NOT_FOUND = 5;

/** Deletes one job's workflow execution with its log and report files; one already deleted (by another pruner, an operator) is fine. */
export async function deleteJobExecution(deps: PruneDeps, id: string, runId?: string): Promise<void> {
  const { client } = deps;
  try {
    await client.workflowService.deleteWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: id, ...(runId ? { runId } : {}) },
    });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
  }
  for (const dir of new Set([...(deps.logDir ? [deps.logDir] : []), ...(deps.logDirs ?? [])])) {
    const log = jobLogPath(dir, id);
    if (log) await rm(log, { force: true });
  }
  if (deps.logDir) await removeBatchFiles(deps.logDir, id);
}

export type ExecutionView = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'runId' | 'startTime' | 'closeTime' | 'status' | 'typedSearchAttributes' | 'memo'
>;

/** A listed execution as it is now (see executionNow), or undefined while it still runs. */
export async function closedExecution(client: Client, listed: WorkflowExecutionInfo): Promise<ExecutionView | undefined> {
  const current = await executionNow(client, listed);
  return current && current.status.name !== 'RUNNING' ? current : undefined;
}

/**
 * Of the runs a listing gave, the executions that have closed, each as it is now: one per id (its
 * newest run), none that an operator's reset replaced (a run of its own only until it is deleted).
 */
export async function* closedExecutions(client: Client, listed: readonly WorkflowExecutionInfo[]): AsyncGenerator<ExecutionView> {
  for (const run of newestRunPerId(listed)) {
    if (await replacedRun(client, run)) continue;
    const closed = await closedExecution(client, run);
    if (closed) yield closed;
  }
}

/**
 * A pruner's time: its housekeeping activity has a minute (startToClose) and no heartbeat, and an
 * execution of thousands of targets takes longer to delete than that. What is left past this goes
 * with the next execution's pruning.
 */
export const PRUNE_BUDGET_MS = 40_000;

/**
 * Deletes an execution with the jobs it started (a batch's targets, sub jobs) and their logs and
 * files, as Kubernetes deletes a Job's pods with it; a child still running is left to run (a
 * delete would terminate it) and keeps its record. Past `deadline` (epoch ms) no more deletes
 * start, and the execution itself stays (with what is left of its children) for the next pruning:
 * false then. With `runId`, only that run of the id goes.
 */
export async function deleteExecutionAndChildren(deps: PruneDeps, id: string, deadline = Infinity, runId?: string): Promise<boolean> {
  const { client } = deps;
  const children: WorkflowExecutionInfo[] = [];
  // A run that continued as new is not a job of its own: its id is its chain's, whose last run may still run.
  const query = `${UpstreamJobIdKey.name} = '${id}' AND ExecutionStatus != 'ContinuedAsNew'`;
  for await (const child of client.workflow.list({ query })) children.push(child);
  // Deletes wait on the server's checkpoint of each close; a few at a time keep a large execution quick to prune.
  let cut = false;
  await mapLimit(children, 8, async (child) => {
    if (Date.now() >= deadline) {
      cut = true;
      return;
    }
    // The closed run itself: a newer run of that id (a retried target) is not this one to delete.
    const closed = await closedExecution(client, child);
    if (closed) await deleteJobExecution(deps, child.workflowId, child.runId);
  });
  if (cut) return false;
  // By its run when known: a retry begun meanwhile (a new run of the id) is not the one to delete.
  await deleteJobExecution(deps, id, runId);
  return true;
}
