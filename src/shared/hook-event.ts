/**
 * Status hooks, Harbor's `job.StatusChange`: POSTed to a job's `status_hook` on every status
 * change (Running and the final ones; not Pending/Scheduled, as in Harbor) and check-in.
 * Pure: imported by workflow code.
 */
import { backoffMs } from './backoff.js';
import { executionAlias } from './job-id.js';
import { refLink, type JobStats, type JobStatus } from './job-model.js';

export interface HookEvent {
  /** For an execution of a periodic job, Harbor's `<periodic id>@<epoch>` form. */
  job_id: string;
  status: JobStatus;
  /** Present on check-in events only. */
  check_in?: string;
  /** The job's stats when the event happened. */
  metadata: JobStats;
}

/** How a job's hook events are retried; carried in the job's input so a run keeps its own. */
export interface HookTimings {
  initialRetryMs: number;
  maxRetryMs: number;
  /** An event still failing this long after its first attempt is given up (and recorded). */
  retryHorizonMs: number;
  /** How long a finished job waits for its last events before handing them to a HookDelivery workflow. */
  drainMs: number;
  /** One POST. */
  attemptTimeoutMs: number;
}

export const DEFAULT_HOOK_TIMINGS: HookTimings = {
  initialRetryMs: 2000,
  maxRetryMs: 60_000,
  retryHorizonMs: 24 * 3600 * 1000,
  drainMs: 5000,
  attemptTimeoutMs: 10_000,
};

export function hookEvent(stats: JobStats, checkIn?: string): HookEvent {
  // Harbor's StatsInfo, without what grows with a fan-out's targets and sub jobs (GET has them): every
  // event carries its metadata, and the events not yet delivered travel in a fan-out's next input
  // at each continue-as-new, which Temporal refuses past 2 MiB (the job was terminated). Nor the
  // seed README's hook_status: StatsInfo has only web_hook_url.
  const { results: _results, sub_jobs: _subJobs, executions: _executions, hook_status: _hookStatus, ...shown } = stats;
  // One id form per payload: an execution is `<periodic id>@<epoch>` in job_id and metadata alike,
  // and so is one named as the upstream job of a sub job it launched.
  const alias = executionAlias(stats.id);
  const metadata: JobStats = alias ? { ...shown, id: alias, ref_link: refLink(alias) } : shown;
  const upstreamAlias = stats.upstream_job_id ? executionAlias(stats.upstream_job_id) : undefined;
  if (upstreamAlias) metadata.upstream_job_id = upstreamAlias;
  const event: HookEvent = { job_id: alias ?? stats.id, status: stats.status, metadata };
  if (checkIn !== undefined) event.check_in = checkIn;
  return event;
}

/** Delay before the next attempt at an event that has failed `attempts` times. */
export function hookRetryDelayMs(timings: HookTimings, attempts: number): number {
  return backoffMs(timings.initialRetryMs, timings.maxRetryMs, attempts);
}

/** How many delivery workflows one revision's hooks may have at once (a reset or two re-run it). */
export const HANDOVER_IDS = 5;

/**
 * The HookDelivery workflow a job's revision hands its undelivered hooks to: `<id>-hooks-<revision>`,
 * then `-2`, `-3`… for re-runs of the revision (a reset) while an earlier one still delivers.
 */
export function handoverWorkflowId(jobId: string, revision: number, n: number): string {
  return n === 1 ? `${jobId}-hooks-${revision}` : `${jobId}-hooks-${revision}-${n}`;
}
