/**
 * Failure types shared by activities, workflows and the API (ApplicationFailure `type` values).
 * Pure: imported by workflow code.
 */
export const FailureType = {
  /** The job's `run` threw or rejected: counts as one failed run. */
  JobFailed: 'JobFailed',
  /** The worker has no job registered under that name. */
  UnknownJob: 'UnknownJob',
  /** The job's parameters no longer pass its schema (e.g. a retry after a schema change). */
  InvalidParameters: 'InvalidParameters',
  /** The job ended in `Error`; the workflow fails with this type so the Web UI shows it failed. */
  JobError: 'JobError',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures that end one run of a job; anything else (a lost worker, a timeout) is retried by Temporal. */
export const JOB_RUN_FAILURES: string[] = [FailureType.JobFailed, FailureType.UnknownJob, FailureType.InvalidParameters];
