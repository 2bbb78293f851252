/**
 * The job model shared by the API, the workflows and the activities.
 *
 * Glossary
 * - job: one unit of background work submitted over the API; its id is the Temporal workflow id.
 * - job name: the registered kind of work (`DEMO`, `RETENTION`, …), Harbor's upper snake case.
 * - job kind: how a job is launched — `Generic` (now), `Scheduled` (after a delay), `Periodic` (cron).
 * - revision: tells apart the runs of one job id; a retry gets a new, larger revision.
 * - check-in: a progress message a running job reports; the stats show the newest one.
 * - op command: `stop` or `cancel`, asked of a job from outside.
 *
 * This module is imported by workflow code, so it must stay pure: no Node built-ins, no I/O.
 */

import type { HistoryLimits } from '../schedules/history-limits.js';
import type { FanOutResult } from './fan-out.js';
import type { HookTimings } from './hook-event.js';
import { executionAlias } from './job-id.js';
import { redactParameters, redactText } from './redact.js';

/** Harbor's job names: upper snake case. */
export const JOB_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export const JobStatus = {
  Pending: 'Pending',
  Scheduled: 'Scheduled',
  Running: 'Running',
  Stopped: 'Stopped',
  Cancelled: 'Cancelled',
  Error: 'Error',
  Success: 'Success',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
export const JOB_STATUSES = Object.values(JobStatus) as [JobStatus, ...JobStatus[]];

export const JobKind = { Generic: 'Generic', Scheduled: 'Scheduled', Periodic: 'Periodic' } as const;
export type JobKind = (typeof JobKind)[keyof typeof JobKind];
export const JOB_KINDS = Object.values(JobKind) as [JobKind, ...JobKind[]];

export const OpCommand = { Stop: 'stop', Cancel: 'cancel' } as const;
export type OpCommand = (typeof OpCommand)[keyof typeof OpCommand];

/**
 * Harbor orders statuses by code and lets a status move only forward within a revision; all final
 * statuses share one code, so a final status is never replaced by another.
 */
export function statusCode(status: JobStatus): number {
  switch (status) {
    case JobStatus.Pending:
      return 0;
    case JobStatus.Scheduled:
      return 1;
    case JobStatus.Running:
      return 2;
    default:
      return 3;
  }
}

export function isFinal(status: JobStatus): boolean {
  return statusCode(status) === 3;
}

/** Statuses from which the `retry` action may start a new revision. */
export const RETRYABLE_STATUSES: readonly JobStatus[] = [JobStatus.Error, JobStatus.Stopped, JobStatus.Cancelled];

/** How a failed job is retried; resolved from the job definition when the job is submitted. */
export interface RetryPolicy {
  /** Total runs allowed, Harbor's MaxFails (a job with 1 is never retried). */
  maxFails: number;
  shouldRetry: boolean;
  initialIntervalMs: number;
  maxIntervalMs: number;
}

/** Timing knobs the workflow needs; taken from configuration when the job is submitted. */
export interface JobTimings {
  /** How long a stopped job may take to return before it is marked stopped and abandoned. */
  stopGraceMs: number;
  heartbeatTimeoutMs: number;
  maxRunMs: number;
  /** Status hook retries; absent in inputs recorded before hooks were delivered (defaults apply). */
  hooks?: HookTimings;
  /** A fan-out job continues as new once its history has this many events (absent: 8,000). */
  fanOutContinueAfterEvents?: number;
  /** Past this many history events a run carries its check-ins in heartbeats, not updates (absent: 10,000). */
  checkInHistoryEvents?: number;
  /** Past this many bytes of history, check-ins ride on heartbeats and failed hooks wait for the job's end. */
  historyBudgetBytes?: number;
  /** A run waiting in its type's queue asks it again after this long without a grant (absent: 10 minutes). */
  queueAskAgainMs?: number;
}

/** The workflow's input: everything fixed at submit time. Recorded in history; evolve by adding optional fields. */
export interface JobInput {
  id: string;
  name: string;
  kind: JobKind;
  parameters: Record<string, unknown>;
  unique: boolean;
  statusHook?: string;
  upstreamJobId?: string;
  /** Unix seconds when the job was first submitted; kept across retries. */
  enqueueTime: number;
  /** Seconds to wait before running (Scheduled kind). */
  scheduleDelay?: number;
  /** A retried Scheduled job's run_at (unix seconds): shown, not waited for. */
  runAt?: number;
  /** When a retry started this run (unix seconds): its revision may run ahead of the clock, its update_time may not. */
  retriedAt?: number;
  revision: number;
  retry: RetryPolicy;
  timings: JobTimings;
  /** Executions of a periodic job: how many finished ones to keep (Kubernetes' history limits). */
  historyLimits?: HistoryLimits;
  /** The job fans out: its activity plans, and the workflow runs one child job per target. */
  fanOut?: boolean;
  /** A retried fan-out job: the targets that succeeded before, with their results (not run again). */
  fanOutDone?: Record<string, FanOutResult>;
  /** A fan-out child: the target it runs. */
  fanOutTarget?: string;
  /** A fan-out job continued as new: where the previous run left off. */
  resume?: JobResume;
  /** At most this many runs of the job's type at once, across every worker: its type's queue hands out the slots. */
  concurrency?: number;
  /** An execution of a periodic job: the schedule is paused once this many executions in a row have failed. */
  pauseAfterFailures?: number;
  /** A short job: its runs go as local activities under this hard cap (ms). */
  shortCapMs?: number;
  /**
   * A run started over an earlier run of the same id (a retry, a unique job's new run): it deletes
   * the earlier run itself, as the API does right after the start, should the API not get to it.
   */
  supersedes?: true;
  /**
   * An execution of a periodic job under concurrency_policy Replace: cancelled (by its schedule, as
   * the next fire comes), it closes after the stop grace even if its run ignores the cancel.
   */
  abandonOnCancel?: true;
}

/** What a fan-out job's run hands the next when it continues as new (its history grew long). */
export interface JobResume {
  state: JobState;
  /** Targets already done in this revision, whatever their end. */
  results: Record<string, FanOutResult>;
  /** Status hook events not yet delivered, in order. */
  hooks?: { events: unknown[]; progress: unknown; log?: unknown[] };
  /**
   * The slot at its type's queue the run that handed over held (its ticket, grant and place in
   * line, epoch ms): the next run goes on in it instead of getting in line behind later runs.
   */
  queueSlot?: { ticket: string; placeMs: number; grantedAtMs?: number };
}

/** What changes while a job lives. Kept in the workflow and mirrored into its memo on each change. */
export interface JobState {
  status: JobStatus;
  revision: number;
  /** Unix seconds of the last change. */
  update_time: number;
  /** Unix seconds when a Scheduled job becomes due. */
  run_at?: number;
  check_in?: string;
  check_in_at?: number;
  /** Runs of this job that failed so far. */
  fails: number;
  last_error?: string;
  /** Ids of the sub jobs this job launched. */
  sub_jobs?: string[];
  /** In a running job's memo: more sub jobs than `sub_jobs` lists (the stats query has them all). */
  sub_jobs_more?: true;
  /** A fan-out job's outcome per target. */
  results?: Record<string, FanOutResult>;
}

/** Harbor's StatsInfo, as `GET /api/v1/jobs/{id}` returns it. */
export interface JobStats {
  id: string;
  status: JobStatus;
  name: string;
  kind: JobKind;
  unique: boolean;
  ref_link: string;
  enqueue_time: number;
  update_time: number;
  run_at?: number;
  check_in?: string;
  check_in_at?: number;
  die_at?: number;
  web_hook_url?: string;
  /** The seed README's name for the status hook's URL (Harbor 1.7's), beside web_hook_url. */
  hook_status?: string;
  upstream_job_id?: string;
  parameters: Record<string, unknown>;
  revision: number;
  fails?: number;
  last_error?: string;
  sub_jobs?: string[];
  /** The seed README's names for the sub jobs: `executions` (their ids) and whether there are any. */
  executions?: string[];
  multiple_executions?: boolean;
  results?: Record<string, FanOutResult>;
  // Periodic jobs only.
  cron_spec?: string;
  options?: Record<string, unknown>;
  paused?: boolean;
  /** Why a paused periodic job is paused (the schedule's note): by whom, or after which failures. */
  paused_note?: string;
  /** The next fire times, in the job's time zone. */
  next_run_times?: string[];
  last_schedule_time?: number;
  /** Unix seconds when the newest successful execution finished (while one is kept). */
  last_successful_time?: number;
  /** Executions running now. */
  active?: number;
  /** Fires missed because they fell outside the catch-up window (starting deadline). */
  missed?: number;
  /** Fires skipped because an execution was still running (concurrency policy Forbid). */
  skipped?: number;
  /** Executions that failed in a row, the most recent ones (a periodic job's health). */
  consecutive_failures?: number;
}

/**
 * A job's input as its memo records it for the API and the Web UI: without the run's timings and
 * retry policy, which only the workflow reads (from its own input) and which made the memo twice
 * as large, a cost every start pays on the server and in both processes.
 */
export type RecordedInput = Omit<JobInput, 'timings' | 'retry'>;

/** Memo keys of a job workflow: `input` is written once at start, `state` on every change. */
export const MEMO_INPUT = 'input';
export const MEMO_STATE = 'state';
/** Set on the execution of a periodic job whose failure paused its schedule (pause_after_failures): a streak after a resume starts after it. */
export const MEMO_PAUSED_SCHEDULE = 'paused_schedule';

export function refLink(id: string): string {
  return `/api/v1/jobs/${id}`;
}

export function toStats(input: RecordedInput, state: JobState): JobStats {
  const stats: JobStats = {
    id: input.id,
    status: state.status,
    name: input.name,
    kind: input.kind,
    unique: input.unique,
    ref_link: refLink(input.id),
    enqueue_time: input.enqueueTime,
    update_time: state.update_time,
    // What is shown of a job never carries its secrets; its code gets them from the workflow's input.
    parameters: redactParameters(input.parameters),
    revision: state.revision,
  };
  if (state.run_at !== undefined) stats.run_at = state.run_at;
  if (state.check_in !== undefined) stats.check_in = state.check_in;
  if (state.check_in_at !== undefined) stats.check_in_at = state.check_in_at;
  // A hook URL may carry a token in its query; the job posts to it as submitted.
  if (input.statusHook) stats.web_hook_url = stats.hook_status = redactText(input.statusHook);
  if (input.upstreamJobId) stats.upstream_job_id = input.upstreamJobId;
  if (state.fails > 0) stats.fails = state.fails;
  if (state.last_error !== undefined) stats.last_error = state.last_error;
  if (state.sub_jobs?.length) stats.sub_jobs = [...state.sub_jobs];
  // As the seed README's Job Execution has it: a job with sub jobs lists them as its executions.
  stats.multiple_executions = (state.sub_jobs?.length ?? 0) > 0;
  if (state.sub_jobs?.length) stats.executions = [...state.sub_jobs];
  if (state.results) stats.results = state.results;
  return stats;
}

/** The state a job starts in, before its workflow has run any code. */
export function initialState(input: RecordedInput): JobState {
  const delayed = input.scheduleDelay !== undefined && input.scheduleDelay > 0;
  const state: JobState = {
    status: delayed ? JobStatus.Scheduled : JobStatus.Pending,
    revision: input.revision,
    // A retry's new run was last updated when it was retried, as Harbor's reset sets it.
    update_time: input.retriedAt ?? Math.max(input.enqueueTime, input.revision),
    fails: 0,
  };
  // Harbor's every Scheduled stats has one: a delayed job's due time, a retried one's, a periodic fire's.
  const fired = input.upstreamJobId === undefined ? undefined : executionAlias(input.id);
  if (delayed) state.run_at = input.enqueueTime + (input.scheduleDelay ?? 0);
  else if (input.runAt !== undefined) state.run_at = input.runAt;
  else if (fired !== undefined) state.run_at = Number(fired.slice(fired.lastIndexOf('@') + 1));
  return state;
}
