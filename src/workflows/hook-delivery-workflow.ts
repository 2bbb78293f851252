import {
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { HANDOVER_IDS, handoverWorkflowId, type HookTimings } from '../shared/hook-event.js';
import { HookOutbox, type HookProgress, type HookRecord, type PendingHook } from './hook-outbox.js';
import { hookLogQuery, hookProgressQuery } from './job-messages.js';

export interface HookDeliveryInput {
  jobId: string;
  url: string;
  timings: HookTimings;
  events: PendingHook[];
  progress?: HookProgress;
  /** The log of the runs before this one (it continued as new), so `GET /jobs/{id}/hooks` keeps their attempts. */
  log?: HookRecord[];
}

/**
 * The hook events a job could not deliver before it finished, still in order. A job's workflow
 * hands them over so that a slow or absent receiver never keeps a finished job open (which would
 * hold back a Forbid schedule, for one).
 */
export async function HookDelivery(input: HookDeliveryInput): Promise<HookProgress> {
  const outbox = new HookOutbox(input.url, input.timings, input.events, input.progress);
  outbox.handedOverBy = workflowInfo().parent?.runId;
  if (input.log) outbox.restoreLog(input.log);
  setHandler(hookProgressQuery, () => outbox.progress);
  setHandler(hookLogQuery, () => outbox.view());
  // A day of retries is a few thousand events; start afresh when the server suggests it.
  try {
    await outbox.run({ untilDrained: true, yieldWhen: () => workflowInfo().continueAsNewSuggested });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // An operator's cancel (Web UI, `temporal workflow cancel`) is a "stop retrying": what is still
    // owed shows as given up in `GET /jobs/{id}/hooks`, not as pending for ever.
    outbox.giveUp('given up: an operator cancelled the hook delivery');
    throw err;
  }
  if (outbox.pending.length > 0) {
    await continueAsNew<typeof HookDelivery>({ ...input, events: outbox.pending, progress: outbox.progress, log: outbox.log });
  }
  return outbox.progress;
}

/**
 * A finished job gives its hook events a moment to go out; whatever is still failing then is
 * handed, in order, to a HookDelivery workflow so the job can close.
 */
export async function handOverHooks(
  outbox: HookOutbox,
  timings: HookTimings,
  job: { id: string; name: string },
  revision: number,
): Promise<void> {
  if (timings.drainMs > 0) await condition(() => outbox.drained, timings.drainMs);
  if (outbox.drained) return;
  // A POST to a receiver that accepts and never answers would hold the job open for
  // hook_timeout_seconds (and a Forbid schedule would skip its fires): the hand-over takes it on.
  const rest = await outbox.pause({ abandonInFlight: patched('hand-over-abandons-attempt-in-flight') });
  if (rest.length === 0) return;
  // A reset re-runs a job under its revision, and the run it replaced may have handed its hooks
  // over under this id already, still delivering them: the re-run's go beside them.
  for (let n = 1; ; n++) {
    try {
      await startChild(HookDelivery, {
        workflowId: handoverWorkflowId(job.id, revision, n),
        args: [{ jobId: job.id, url: outbox.url, timings, events: rest, progress: outbox.progress }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `status hooks of ${job.name} job ${job.id} still being retried`,
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || n >= HANDOVER_IDS) throw err;
    }
  }
}
