import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedCheckIn, JobActivities } from '../activities/types.js';
import { FailureType, JOB_RUN_FAILURES } from '../shared/failures.js';
import type { JobInput } from '../shared/job-model.js';
import { housekeepingQueue, queueingQueue } from '../shared/task-queues.js';
import type { RunOutcome } from './run-outcome.js';

/** The activities a job's workflow calls, each with the options its part of the job needs. */
export interface RunActivities {
  executeJob: JobActivities['executeJob'];
  housekeeping: Pick<JobActivities, 'pruneExecutions' | 'pruneBatchExecutions' | 'checkScheduleHealth'>;
  queueing: Pick<JobActivities, 'enterQueue'>;
  queueingToTheEnd: Pick<JobActivities, 'enterQueue'>;
}

export function runActivities(input: JobInput): RunActivities {
  const executeJob =
    input.shortCapMs !== undefined
      ? proxyLocalActivities<JobActivities>({
          startToCloseTimeout: input.shortCapMs,
          // One attempt: a failure or an overrun ends the run and the job's own retry policy decides
          // (with its backoff, as a workflow timer). Retrying inside the workflow task would hold the
          // task open past its timeout. A lost worker's run is re-run with the workflow task.
          retry: { maximumAttempts: 1 },
          cancellationType: 'WAIT_CANCELLATION_COMPLETED',
        }).executeJob
      : taskActivity(input);
  const housekeeping = proxyActivities<JobActivities>({
    taskQueue: housekeepingQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  // Getting in line must not fail the job: Temporal retries it until the server answers.
  const queueing = {
    taskQueue: queueingQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { maximumInterval: '10 seconds' },
  } as const;
  return {
    executeJob,
    housekeeping,
    queueing: proxyActivities<JobActivities>(queueing),
    // A stop while the run gets in line waits until it is in: its release then comes after it and
    // takes the place back, where it could otherwise land first and leave a stale place behind.
    queueingToTheEnd: proxyActivities<JobActivities>({ ...queueing, cancellationType: 'WAIT_CANCELLATION_COMPLETED' }),
  };
}

/** A job's run as an activity task of its own: heartbeats, any length up to max_run_hours. */
function taskActivity(input: JobInput): JobActivities['executeJob'] {
  return proxyActivities<JobActivities>({
    startToCloseTimeout: input.timings.maxRunMs,
    heartbeatTimeout: input.timings.heartbeatTimeoutMs,
    // Wait for the job to acknowledge a stop, bounded by the grace period in runOnce.
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    // A lost worker or a missed heartbeat is retried by Temporal without limit; a failure of the
    // job itself ends the run and the workflow applies the job's own retry policy. So does a run
    // past max_run_hours (Temporal's own name for that timeout): retried by Temporal, it would
    // start again from the beginning, past the cap again, forever.
    retry: {
      initialInterval: '1s',
      maximumInterval: '10s',
      nonRetryableErrorTypes: [...JOB_RUN_FAILURES, 'TemporalTimeout:StartToClose'],
    },
  }).executeJob;
}

/** A failed run's outcome; one whose parameters fail the job's schema is final: a retry would fail alike. */
export function failedRun(input: JobInput, err: unknown): RunOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const final = cause instanceof ApplicationFailure && cause.type === FailureType.InvalidParameters;
  return { kind: 'failed', message: runFailureMessage(input, err), ...(final ? { final } : {}) };
}

function runFailureMessage(input: JobInput, err: unknown): string {
  const cap = input.shortCapMs;
  if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
    if (cap !== undefined) return `the run overran its ${cap} ms cap as a short job`;
    if (err.cause.timeoutType === 'START_TO_CLOSE') {
      return `the run overran job.max_run_hours (${Number((input.timings.maxRunMs / 3_600_000).toPrecision(4))} h)`;
    }
  }
  return failureMessage(err);
}

/** The check-in a failed run carried in its heartbeats (the failure's details). */
export function carriedCheckIn(err: unknown): CarriedCheckIn | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? cause.details : undefined;
  const first = details?.[0] as { checkIn?: CarriedCheckIn } | undefined;
  return first?.checkIn;
}

/** Why a run failed, for `last_error`. */
function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
