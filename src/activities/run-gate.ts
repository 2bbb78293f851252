import type { Context } from '@temporalio/activity';
import { abortableSleep } from '../process/abortable-sleep.js';
import type { GateReader } from '../queues/gate-reader.js';
import type { RunAdmission } from './types.js';

/**
 * The type's queue as the run starts, read until it answers: an attempt that failed here would come
 * back as a later attempt, which counts as a run that had started and passes a pause (see above).
 * The run heartbeats meanwhile and ends on its cancellation.
 */
export async function readGate(gates: GateReader, taskQueue: string, name: string, activity: Context): ReturnType<GateReader> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await gates(taskQueue, name);
    } catch (err) {
      if (activity.cancellationSignal.aborted) throw err;
      // What an earlier attempt saved stays what the next one gets.
      if (!activity.info.isLocal) activity.heartbeat(activity.info.heartbeatDetails);
      await abortableSleep(wait, activity.cancellationSignal);
    }
  }
}

/**
 * Whether a run's slot was granted after its queue's pause (a read of the queue from before a
 * resume and a new pause). `paused_at` is whole seconds: a grant within the pause's second counts as
 * before it, as a paused queue grants nothing. A grant of unknown time is not held back.
 */
export function grantedSincePause(admission: RunAdmission, pausedAt: number | undefined): boolean {
  if (!admission.granted) return false;
  if (admission.grantedAtMs === undefined || pausedAt === undefined) return true;
  return admission.grantedAtMs >= (pausedAt + 1) * 1000;
}
