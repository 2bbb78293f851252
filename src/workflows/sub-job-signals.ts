import { CancellationScope, getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { OpCommand } from '../shared/job-model.js';
import { cancelSignal, stopSignal } from './job-messages.js';

/** A stop passed on to a target whose start was under way is signalled outside the cancelled run scope. */
const SIGNAL_OUTSIDE_CANCELLED_SCOPE = 'late-target-stop-outside-cancelled-scope';

/** Passes a job's stop or cancel on to one of its sub jobs; one that already ended ignores it. */
export function signalSubJob(id: string, command: OpCommand): Promise<void> {
  return getExternalWorkflowHandle(id)
    .signal(command === OpCommand.Cancel ? cancelSignal : stopSignal)
    .catch(() => undefined);
}

/**
 * The same for a sub job whose start was under way when the stop was passed on. A fan-out's target
 * comes back inside the run's scope, which the stop cancelled, and the SDK sends no signal from a
 * cancelled scope: the target ran on, its job Stopped.
 */
export function signalLateSubJob(id: string, command: OpCommand): void {
  if (CancellationScope.current().consideredCancelled && patched(SIGNAL_OUTSIDE_CANCELLED_SCOPE)) {
    void CancellationScope.nonCancellable(() => signalSubJob(id, command));
  } else void signalSubJob(id, command);
}
