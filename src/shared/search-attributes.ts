import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { JobKind, type JobInput, type JobStatus } from './job-model.js';

/**
 * Custom search attributes that make jobs listable and legible in the Web UI, e.g.
 * `JobName = "DEMO" AND JobStatus = "Error"`. Pure: imported by workflow code too.
 */
export const JobNameKey = defineSearchAttributeKey('JobName', SearchAttributeType.KEYWORD);
export const JobKindKey = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
export const UpstreamJobIdKey = defineSearchAttributeKey('UpstreamJobId', SearchAttributeType.KEYWORD);
/**
 * A periodic job's task queue, on its schedule: schedules have no task queue of their own in
 * visibility, and deployments sharing a namespace (each on its own `temporal.task_queue`) list
 * only their own periodic jobs, as they do their other jobs (`TaskQueue`).
 */
export const JobTaskQueueKey = defineSearchAttributeKey('JobTaskQueue', SearchAttributeType.KEYWORD);

/**
 * A delayed (Scheduled) job's `run_at`: once it has passed, the job is due, and one held back by
 * its type's queue (paused, at its limit) waits in it as a pending job does (`GET /queues`).
 */
export const JobRunAtKey = defineSearchAttributeKey('JobRunAt', SearchAttributeType.DATETIME);

export const JOB_SEARCH_ATTRIBUTES = [JobNameKey, JobKindKey, JobStatusKey, UpstreamJobIdKey, JobTaskQueueKey, JobRunAtKey] as const;

/** The search attributes a job's workflow starts with (its status then follows by upsert). */
export function jobSearchAttributes(
  input: Pick<JobInput, 'name' | 'kind' | 'upstreamJobId' | 'enqueueTime' | 'scheduleDelay'>,
  status: JobStatus,
): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: JobNameKey, value: input.name },
    { key: JobKindKey, value: input.kind },
    { key: JobStatusKey, value: status },
  ];
  if (input.upstreamJobId) pairs.push({ key: UpstreamJobIdKey, value: input.upstreamJobId });
  if (input.scheduleDelay) pairs.push({ key: JobRunAtKey, value: new Date((input.enqueueTime + input.scheduleDelay) * 1000) });
  return pairs;
}

/** Jobs waiting to run: pending, or delayed and due (the run_at of one not yet started has passed). */
export function waitingJobs(nowMs: number): string {
  return `(${JobStatusKey.name} = 'Pending' OR (${JobStatusKey.name} = 'Scheduled' AND ${JobRunAtKey.name} <= '${new Date(nowMs).toISOString()}'))`;
}

/**
 * A periodic job's executions in visibility, by the search attributes every run of one carries:
 * `TemporalScheduledById` is only on the run the schedule started, not on a retry's new run (a
 * plain start) nor on a fan-out execution's run that continued as new. A run that continued as new
 * is left out: the chain's last run is the execution.
 */
export function periodicExecutionsQuery(periodicId: string): string {
  return `${UpstreamJobIdKey.name} = '${periodicId}' AND ${JobKindKey.name} = '${JobKind.Scheduled}' AND ExecutionStatus != 'ContinuedAsNew'`;
}

/** Jobs whose own status is not final (their workflow may have closed early: cancelled, terminated). */
export const NOT_FINAL_STATUS = `${JobStatusKey.name} IN ('Pending', 'Scheduled', 'Running')`;

/**
 * Jobs not finished: open, and not yet final by their own status. A finished job's workflow may
 * stay open a moment longer, delivering its last status hooks.
 */
export const UNFINISHED_JOBS = `ExecutionStatus = 'Running' AND ${NOT_FINAL_STATUS}`;
