import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { executionInput } from '../shared/job-start.js';
import {
  initialState,
  isFinal,
  JobStatus,
  MEMO_INPUT,
  MEMO_STATE,
  type JobInput,
  type JobState,
  type JobStats,
} from '../shared/job-model.js';

/**
 * A job's input and state from a workflow's memo. Executions of a periodic job share the input
 * their schedule was given, so their id and times are the workflow's; before their first workflow
 * task they have no state yet, and are Pending.
 */
export function jobView(memo: Record<string, unknown> | undefined, workflowId: string, startTime: Date) {
  const recorded = memo?.[MEMO_INPUT] as JobInput | undefined;
  if (!recorded) return undefined;
  const input = executionInput(recorded, workflowId, startTime);
  const state = (memo?.[MEMO_STATE] as JobState | undefined) ?? initialState(input);
  return { input, state };
}

/**
 * The memo is written by the workflow, so it cannot record what ended the workflow from outside
 * (terminate, cancel before the workflow ran, timeout). The execution status fills that gap, so
 * what an operator does in the Web UI or CLI shows in the API.
 */
export function reconcile(stats: JobStats, execution: WorkflowExecutionStatusName): JobStats {
  if (isFinal(stats.status) || execution === 'RUNNING' || execution === 'UNSPECIFIED' || execution === 'UNKNOWN') {
    return stats;
  }
  const status =
    execution === 'TERMINATED'
      ? JobStatus.Stopped
      : execution === 'CANCELLED'
        ? JobStatus.Cancelled
        : execution === 'COMPLETED'
          ? JobStatus.Success
          : JobStatus.Error;
  return { ...stats, status };
}
