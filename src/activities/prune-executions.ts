import { ScheduleNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { JobStatus } from '../shared/job-model.js';
import { JobStatusKey, periodicExecutionsQuery } from '../shared/search-attributes.js';
import {
  executionBeganAt,
  MAX_HISTORY_LIMIT,
  selectPrunable,
  selfBeyondLimit,
  type FinishedExecution,
} from '../schedules/history-limits.js';
import { isStartRecorded, type RecordedStart } from '../schedules/recorded-starts.js';
import { closedExecutions, deleteExecutionAndChildren, PRUNE_BUDGET_MS, type PruneDeps } from './delete-execution.js';
import type { PruneExecutionsInput } from './types.js';
import { unlistedRecentExecutions } from './unlisted-recent-executions.js';
import { abortableSleep } from '../process/abortable-sleep.js';
import type { BackgroundWork } from '../process/background-work.js';

/** Both limits at their largest, so whatever the limits, every execution they keep is seen; a backlog drains over a few runs. */
const MAX_LISTED = 2 * MAX_HISTORY_LIMIT;
/** How long a pass waits for the schedule to record a doomed execution's start; what is left waits for the next pass. */
const RECORD_WAIT_MS = 10_000;
const RECORD_POLL_MS = 500;
/** How long an ending execution beyond a limit of 0 is waited for to close (its hooks are handed on before it prunes). */
const CLOSE_WAIT_MS = 60_000;
const CLOSE_POLL_MS = 100;

/** Deletes a periodic job's executions beyond its history limits, oldest first, with their logs. */
export async function pruneExecutions(deps: PruneDeps & { background: BackgroundWork }, input: PruneExecutionsInput): Promise<string[]> {
  const { client } = deps;
  const finished: FinishedExecution[] = [];
  /** Each listed execution's (last) run start, which the schedule's record of its starts is read against. */
  const runStartedAt = new Map<string, number>();
  /** The closed run each was listed with: a retry of it begun since is not deleted with it. */
  const runIds = new Map<string, string>();
  let listed = 0;
  // A run that continued as new is not an execution of its own: its chain's last run is (it has
  // the same id, so deleting by id would take that run, or end it if it still runs).
  const query = periodicExecutionsQuery(input.upstreamJobId);
  const runs: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query })) {
    if (++listed > MAX_LISTED) break;
    if (info.workflowId !== input.self.id) runs.push(info);
  }
  runs.push(...(await unlistedRecentExecutions(client, input.upstreamJobId, runs, input.self.id)));
  for await (const current of closedExecutions(client, runs)) {
    const startedAt = current.startTime.getTime();
    runStartedAt.set(current.workflowId, startedAt);
    runIds.set(current.workflowId, current.runId);
    finished.push({
      id: current.workflowId,
      startedAt: executionBeganAt(current.workflowId, startedAt),
      succeeded: current.typedSearchAttributes.get(JobStatusKey) === JobStatus.Success,
    });
  }
  const self = { ...input.self, startedAt: executionBeganAt(input.self.id, input.self.startedAt) };
  // The ending execution may itself be beyond its limit: always with a limit of 0 (Kubernetes
  // deletes a Job as it finishes), or an older fire that outlasted newer ones. It cannot delete
  // itself, so this worker deletes it once it has closed. Should the worker stop first (its close
  // ends the wait), the next execution's pruning deletes it, as it would any beyond its limit.
  const { runId } = input.self;
  if (selfBeyondLimit(finished, self, input.limits) && runId) {
    deps.background.run((signal) => deleteOnceClosed(deps, input.upstreamJobId, { ...input.self, runId }, signal));
  }
  let waiting = selectPrunable(finished, self, input.limits);
  const deleted: string[] = [];
  // Deleting an execution whose start the schedule has not recorded would let a retried start run
  // that fire again under the same id; such an execution is deleted once its start is recorded.
  // The ending execution stays open while it waits, so the wait is bounded, describes included.
  const deadline = Date.now() + RECORD_WAIT_MS;
  const budget = Date.now() + PRUNE_BUDGET_MS;
  while (waiting.length > 0) {
    const recent = await recordedStarts(client, input.upstreamJobId, deadline);
    if (recent === 'unknown') break;
    const ready = waiting.filter((id) => isStartRecorded(recent, { id, startedAt: runStartedAt.get(id)! }, Date.now()));
    for (const id of ready) {
      // With its targets or sub jobs: their upstream would be gone, and a batch's series with it.
      if (!(await deleteExecutionAndChildren(deps, id, budget, runIds.get(id)))) return deleted;
      deleted.push(id);
    }
    waiting = waiting.filter((id) => !ready.includes(id));
    if (waiting.length === 0 || Date.now() + RECORD_POLL_MS > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, RECORD_POLL_MS));
  }
  return deleted;
}

/**
 * Deletes the execution ending now (`self`, its own start time) once its run has closed and the
 * schedule has recorded its start, unless a newer run of its id (a retry) has begun meanwhile.
 */
async function deleteOnceClosed(
  deps: PruneDeps,
  scheduleId: string,
  self: FinishedExecution & { runId: string },
  signal: AbortSignal,
): Promise<void> {
  const { client } = deps;
  const deadline = Date.now() + CLOSE_WAIT_MS;
  while ((await client.workflow.getHandle(self.id, self.runId).describe()).status.name === 'RUNNING') {
    if (Date.now() + CLOSE_POLL_MS > deadline) return;
    await abortableSleep(CLOSE_POLL_MS, signal);
    if (signal.aborted) return;
  }
  for (;;) {
    const recent = await recordedStarts(client, scheduleId, deadline);
    if (recent === 'unknown') return;
    if (isStartRecorded(recent, self, Date.now())) break;
    if (Date.now() + RECORD_POLL_MS > deadline) return;
    await abortableSleep(RECORD_POLL_MS, signal);
    if (signal.aborted) return;
  }
  if (signal.aborted || (await client.workflow.getHandle(self.id).describe()).runId !== self.runId) return;
  await deleteExecutionAndChildren(deps, self.id, Date.now() + PRUNE_BUDGET_MS, self.runId);
}

/** The starts the schedule lists as taken; undefined once the schedule is gone; 'unknown' past the deadline. */
async function recordedStarts(client: Client, scheduleId: string, deadline: number): Promise<RecordedStart[] | undefined | 'unknown'> {
  try {
    const { info } = await client.withDeadline(deadline, () => client.schedule.getHandle(scheduleId).describe());
    return info.recentActions.map((a) => ({ workflowId: a.action.workflow.workflowId, takenAt: a.takenAt.getTime() }));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    if (Date.now() >= deadline) return 'unknown';
    throw err;
  }
}
