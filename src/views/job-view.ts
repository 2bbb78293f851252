import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { RunHeartbeat } from '../activities/types.js';
import {
  initialState,
  isFinal,
  JobStatus,
  MEMO_INPUT,
  MEMO_STATE,
  type RecordedInput,
  type JobState,
  type JobStats,
} from '../shared/job-model.js';
import { executionInput, type Stored } from '../shared/start-input.js';

/**
 * A job's input and state from a workflow's memo. Until the workflow first changes it, the state
 * is the one its input implies (a submit starts without one: jobStartOptions). Executions of a
 * periodic job share the input their schedule was given, so their id and times are the workflow's.
 */
export function jobView(memo: Record<string, unknown> | undefined, workflowId: string, startTime: Date) {
  const recorded = memo?.[MEMO_INPUT] as Stored<RecordedInput> | undefined;
  if (!recorded) return undefined;
  const input = executionInput(recorded, workflowId, startTime);
  const state = (memo?.[MEMO_STATE] as JobState | undefined) ?? initialState(input);
  return { input, state };
}

/**
 * The memo is written by the workflow, so it cannot record what ended the workflow from outside
 * (terminate, cancel before the workflow ran, timeout). The execution status fills that gap, and
 * its close time the `update_time` (Harbor's changes with every status write), so what an
 * operator does in the Web UI or CLI shows in the API.
 */
export function reconcile(stats: JobStats, execution: WorkflowExecutionStatusName, closeTime?: Date): JobStats {
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
  const closedAt = closeTime ? Math.floor(closeTime.getTime() / 1000) : undefined;
  return { ...stats, status, ...(closedAt !== undefined && closedAt > stats.update_time ? { update_time: closedAt } : {}) };
}

/** A pending activity as describe returns it (the fields a job's live run is read from). */
export interface PendingRun {
  activityType?: { name?: string | null } | null;
  state?: number | null;
  /** Past 1: an attempt started before (its worker was lost), and the job has run. */
  attempt?: number | null;
  heartbeatDetails?: { payloads?: unknown[] | null } | null;
}

/** Temporal's PENDING_ACTIVITY_STATE_STARTED: a worker has the run. */
const PENDING_ACTIVITY_STARTED = 2;

/**
 * What the workflow has not recorded yet: a run a worker has started (now or in an attempt its
 * lost worker made) is Running before its report arrives, and check-ins that rode on heartbeats (a job without a status hook) are the newest ones.
 */
export function withLiveRun(
  state: JobState,
  pending: readonly PendingRun[] | null | undefined,
  decode: (payload: unknown) => unknown,
): JobState {
  const run = pending?.find((a) => a.activityType?.name === 'executeJob');
  if (!run || isFinal(state.status)) return state;
  let live = state;
  // Once started it stays Running, as Harbor's status does, while it waits for another worker.
  const ran = run.state === PENDING_ACTIVITY_STARTED || (run.attempt ?? 1) > 1;
  if (ran && state.status === JobStatus.Pending) live = { ...live, status: JobStatus.Running };
  const payload = run.heartbeatDetails?.payloads?.[0];
  const beat = payload === undefined ? undefined : (decode(payload) as RunHeartbeat | undefined);
  const checkIn = beat?.revision === state.revision ? beat.checkIn : undefined;
  if (checkIn && (state.check_in_at === undefined || checkIn.at >= state.check_in_at)) {
    live = { ...live, check_in: checkIn.message, check_in_at: checkIn.at, update_time: Math.max(live.update_time, checkIn.at) };
  }
  return live;
}
