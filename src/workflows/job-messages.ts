import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobState, OpCommand } from '../shared/job-model.js';

/** Ask a job to stop: it ends as `Stopped`. */
export const stopSignal = defineSignal('stop');
/** Ask a job to cancel: it ends as `Cancelled`. */
export const cancelSignal = defineSignal('cancel');

export interface JobStartedEvent {
  revision: number;
  attempt: number;
}
/** Sent by the job's activity as its first act, so `Running` means a worker really started it. */
export const jobStartedSignal = defineSignal<[JobStartedEvent]>('jobStarted');

export interface CheckInEvent {
  revision: number;
  message: string;
  /** Unix seconds when the job checked in. */
  at: number;
}
/** Sent by the job's activity when the job checks in (coalesced on the activity side). */
export const checkInSignal = defineSignal<[CheckInEvent]>('checkIn');

/** The live state of the job. */
export const statsQuery = defineQuery<JobState>('stats');
/** The op command asked of the job so far, if any; the activity reads it to tell stop from cancel. */
export const opCommandQuery = defineQuery<OpCommand | null>('opCommand');
