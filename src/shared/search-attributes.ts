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

export const JOB_SEARCH_ATTRIBUTES = [JobNameKey, JobKindKey, JobStatusKey, UpstreamJobIdKey, JobTaskQueueKey] as const;

/** The search attributes a job's workflow starts with (its status then follows by upsert). */
export function jobSearchAttributes(input: Pick<JobInput, 'name' | 'kind' | 'upstreamJobId'>, status: JobStatus): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: JobNameKey, value: input.name },
    { key: JobKindKey, value: input.kind },
    { key: JobStatusKey, value: status },
  ];
  if (input.upstreamJobId) pairs.push({ key: UpstreamJobIdKey, value: input.upstreamJobId });
  return pairs;
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
