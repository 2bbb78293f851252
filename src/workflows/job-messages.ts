import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JobState, OpCommand, RetryPolicy } from '../shared/job-model.js';
import type { HookProgress, HookRecord } from './hook-outbox.js';

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

/**
 * The same two reports as updates, which runs send today: the server runs an update on a workflow
 * with nothing else to do as a speculative workflow task, persisted only with its outcome, so a
 * report costs one state transition where a signal costs three (signal, task started, completed).
 * The signals stay for runs of older workers.
 */
export const jobStartedUpdate = defineUpdate<void, [JobStartedEvent]>('reportStarted');
/** What a check-in update answers: `carry` once the job's history has taken its share of check-ins. */
export interface CheckInReply {
  carry?: boolean;
}
export const checkInUpdate = defineUpdate<CheckInReply | undefined, [CheckInEvent]>('reportCheckIn');

/** The live state of the job. */
export const statsQuery = defineQuery<JobState>('stats');
/** The op command asked of the job so far, if any; the activity reads it to tell stop from cancel. */
export const opCommandQuery = defineQuery<OpCommand | null>('opCommand');

export interface LaunchJobRequest {
  name: string;
  parameters: Record<string, unknown>;
  /** The sub job's retry policy; the activity knows the registry, the workflow does not. */
  retry: RetryPolicy;
  /** The sub job's type's concurrency limit, if it has one. */
  concurrency?: number;
  /** The sub job is short: its cap. */
  shortCapMs?: number;
  /** The sub job's type fans out (RETENTION, batch jobs): its run plans child jobs. */
  fanOut?: boolean;
  /** The sub job's own status hook (sealed when it carries a token). */
  statusHook?: string;
}
/** Sent by a running job's activity: start a sub job as a child workflow; answers its id. */
export const launchJobUpdate = defineUpdate<string, [LaunchJobRequest]>('launchJob');

/** How a job's status hooks are going (also answered by its HookDelivery workflow). */
export const hookProgressQuery = defineQuery<HookProgress | null>('hookProgress');

/** The recent hook events with their attempts (also answered by its HookDelivery workflow). */
export const hookLogQuery = defineQuery<HookRecord[]>('hookLog');
