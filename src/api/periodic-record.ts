import { randomBytes } from 'node:crypto';
import type { ScheduleDescription, ScheduleOverlapPolicy, ScheduleSummary } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { JobKind, type JobStatus } from '../shared/job-model.js';
import { JobKindKey, JobNameKey, JobStatusKey, JobTaskQueueKey } from '../shared/search-attributes.js';
import { notFound } from './api-error.js';
import type { JobMetadata, PeriodicOptionKey } from './contract.js';

/** A periodic job as it was submitted: kept in its schedule's memo (describe returns calendars, not the string). */
export interface PeriodicRecord {
  id: string;
  name: string;
  parameters: Record<string, unknown>;
  statusHook?: string;
  cronSpec: string;
  options: PeriodicOptions;
  enqueueTime: number;
}

export type PeriodicOptions = Pick<JobMetadata, PeriodicOptionKey>;

export const MEMO_PERIODIC = 'periodic';
/** How the note of a stopped periodic job's schedule begins; a stopped job never fires again. */
export const STOPPED_NOTE = 'jobservice: stopped';

/**
 * The note one stop writes: its time, and a mark of its own, so that of two stops racing each can
 * tell whether its write is the one that took (that stop posts the Stopped hook).
 */
export function stoppedNote(at = new Date()): string {
  return `${STOPPED_NOTE} at ${at.toISOString()} (stop ${randomBytes(4).toString('hex')})`;
}
/** Without a starting deadline, a fire missed by more than this (e.g. while the server was down) is skipped. */
export const DEFAULT_CATCHUP_WINDOW_MS = 60_000;

/** Kubernetes' concurrency policies in Temporal's terms. */
export const OVERLAP: Record<NonNullable<PeriodicOptions['concurrency_policy']>, ScheduleOverlapPolicy> = {
  Allow: 'ALLOW_ALL',
  Forbid: 'SKIP',
  Replace: 'CANCEL_OTHER',
};

/** The job a schedule holds; a schedule that is not one of ours is not a job. */
export function periodicRecord(description: ScheduleDescription): PeriodicRecord {
  const record = description.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
  if (!record) throw notFound(description.scheduleId);
  return record;
}

/** A schedule's search attributes as it is made: `taskQueue` is the deployment's that makes it. */
export function scheduleSearchAttributes(name: string, status: JobStatus, taskQueue: string | undefined): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: JobNameKey, value: name },
    { key: JobKindKey, value: JobKind.Periodic },
    { key: JobStatusKey, value: status },
  ];
  if (taskQueue) pairs.push({ key: JobTaskQueueKey, value: taskQueue });
  return pairs;
}

/**
 * A schedule's search attributes with a new status, for an update: the task queue stays the one
 * the schedule was made with (a schedule made before the attribute existed has none and keeps none).
 */
export function searchAttributesWithStatus(
  schedule: Pick<ScheduleSummary, 'typedSearchAttributes'>,
  name: string,
  status: JobStatus,
): SearchAttributePair[] {
  return scheduleSearchAttributes(name, status, schedule.typedSearchAttributes?.get(JobTaskQueueKey));
}

export function isStopped(description: Pick<ScheduleSummary, 'state'>): boolean {
  // Stops before stoppedNote wrote the prefix alone.
  return description.state.paused && (description.state.note ?? '').startsWith(STOPPED_NOTE);
}
