import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { QueueAction, QueueEntry, QueueGate, QueueState } from '../shared/job-queue.js';

export interface AcquireSlotRequest extends QueueEntry {
  /** The type's limit as the job was submitted with it; absent: none (it waits only for a resume). */
  limit?: number;
}
/** A run asks its type's queue for a slot; the queue answers with `slotGranted` to the job's workflow. */
export const acquireSlotSignal = defineSignal<[AcquireSlotRequest]>('acquireSlot');

/** Sent by a worker as it starts: its configuration's limit of the queue's type (absent: none). */
export const queueLimitSignal = defineSignal<[{ limit?: number }]>('setLimit');

/**
 * A run gives back its slot, or its place in line (a stopped job that was waiting). With
 * `anyWaiting`, the job's place in line whatever its ticket, and no slot (a reset run's: see RunSlot).
 */
export const releaseSlotSignal = defineSignal<[{ jobId: string; ticket: string; anyWaiting?: true }]>('releaseSlot');

/** Sent to a job's workflow: its run may start. */
export const slotGrantedSignal = defineSignal<[{ ticket: string }]>('slotGranted');

export interface QueueControlResult extends QueueGate {
  waiting: number;
  running: number;
}
/** pause, resume or stop a job type; answers the queue as it stands after the action. */
export const queueControlUpdate = defineUpdate<QueueControlResult, [{ action: QueueAction }]>('control');

/** The whole queue: gate, waiting runs in order, slots held. */
export const queueStateQuery = defineQuery<QueueState>('queueState');
