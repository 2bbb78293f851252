import { Worker } from '@temporalio/worker';

type CreatorArgs = Parameters<(typeof Worker)['createWorkflowCreator']>;

/**
 * A Temporal worker whose workflow thread enters workflow code without Node's per-call watchdog.
 *
 * The SDK enters a workflow's V8 context through `vm` with a `timeout` (its `isolateExecutionTimeout`,
 * 5 s) on every call into it, about nine per NOOP job, and Node starts and joins a thread for each
 * timed call (nodejs/node#47739): 65 µs of CPU each on an idle machine here, and under load the
 * workflow thread waits for the watchdog to be scheduled before it can go on (in a profile of the
 * burst, a third of that thread's busy time sat in `runInContext` itself). Without a timeout the
 * call is plain.
 *
 * What goes: the guard against workflow code that never yields. With it, an activation stuck for
 * 5 s fails its workflow task and the thread is free again; without it, the thread stays stuck and
 * the workflows cached on it stall until the process restarts (their tasks time out on the server
 * and go to other workers). Only this service's own workflow code runs there, never a job's code
 * (jobs run in activities), so the guard protects against a bug of ours, not against a job.
 * `worker_pool.workflow_watchdog: true` keeps it.
 */
export class UnwatchedWorker extends Worker {
  protected static override createWorkflowCreator(
    ...[bundle, options, logger]: CreatorArgs
  ): ReturnType<(typeof Worker)['createWorkflowCreator']> {
    // Node's vm skips the watchdog only for an absent timeout; the SDK hands this value to the
    // workflow thread as is.
    return super.createWorkflowCreator(bundle, { ...options, isolateExecutionTimeoutMs: undefined as unknown as number }, logger);
  }
}

/** The worker class for a pool: the SDK's own, or one without the per-call watchdog (see UnwatchedWorker). */
export function workerClass(watchdog: boolean): typeof Worker {
  return watchdog ? Worker : UnwatchedWorker;
}
