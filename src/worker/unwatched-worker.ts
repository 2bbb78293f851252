import { Worker } from '@temporalio/worker';

type CreatorArgs = Parameters<(typeof Worker)['createWorkflowCreator']>;
type WorkflowCreator = Awaited<ReturnType<(typeof Worker)['createWorkflowCreator']>>;
type Workflow = Awaited<ReturnType<WorkflowCreator['createWorkflow']>>;

/** What happens when an activation has not returned for `stuckAfterMs`. */
export interface StuckGuard {
  stuckAfterMs: number;
  onStuck(message: string): void;
}

/**
 * A thread stuck this long in workflow code will not come back: the process ends, so a supervisor
 * (systemd, Kubernetes, an operator) restarts it. An activation takes milliseconds; one queued
 * behind 200 others on a loaded machine, well under a second. A restart does not mend a workflow
 * whose code loops for ever (it replays to the same loop, on this worker or the next), which is why
 * the SDK's watchdog stays the default. The timer runs on the main thread: a process frozen for a
 * minute (SIGSTOP, a paused container, a debugger) trips it as it thaws.
 */
export const EXIT_WHEN_STUCK: StuckGuard = {
  stuckAfterMs: 60_000,
  onStuck(message) {
    console.error(`${message}; exiting so the process is restarted`);
    process.exit(70);
  },
};

/**
 * A Temporal worker class whose workflow thread enters workflow code without Node's per-call watchdog.
 *
 * The SDK enters a workflow's V8 context through `vm` with a `timeout` (its `isolateExecutionTimeout`,
 * 5 s) on every call into it, about nine per NOOP job, and Node starts and joins a thread for each
 * timed call (nodejs/node#47739): 65 µs of CPU each on an idle machine here, and under load the
 * workflow thread waits for the watchdog to be scheduled before it can go on (in a profile of the
 * burst, a third of that thread's busy time sat in `runInContext` itself). Without a timeout the
 * call is plain.
 *
 * What goes: the SDK's guard against workflow code that never yields. With it, an activation stuck
 * for 5 s fails its workflow task and the thread is free again. Without it the thread stays stuck,
 * and the worker goes on taking workflow tasks it cannot run (its pollers live outside the thread),
 * so those workflows stall too, even with healthy workers beside it. One check stands in for the
 * per-call one: an activation that has not returned after `guard.stuckAfterMs` (60 s) ends the
 * process (`EXIT_WHEN_STUCK`). Only this service's own workflow code runs there, never a job's
 * code (jobs run in activities), so this guards against a bug of ours, not against a job; but a
 * workflow that loops for ever then takes down each worker it lands on, where the SDK's watchdog
 * fails its task every 5 s and lets the rest go on. So this is `worker_pool.workflow_watchdog:
 * false`, for deployments that want the CPU back; the default keeps the SDK's watchdog.
 */
export function unwatchedWorkerClass(guard: StuckGuard = EXIT_WHEN_STUCK): typeof Worker {
  return class UnwatchedWorker extends Worker {
    protected static override async createWorkflowCreator(...[bundle, options, logger]: CreatorArgs): Promise<WorkflowCreator> {
      // Node's vm skips the watchdog only for an absent timeout; the SDK hands this value to the
      // workflow thread as is.
      const creator = await super.createWorkflowCreator(
        bundle,
        { ...options, isolateExecutionTimeoutMs: undefined as unknown as number },
        logger,
      );
      return {
        createWorkflow: async (createOptions) =>
          guarded(
            await timed(guard, `creating workflow ${createOptions.info.workflowId}`, () => creator.createWorkflow(createOptions)),
            guard,
          ),
        destroy: () => creator.destroy(),
      };
    }
  };
}

/** A workflow whose activations are timed by the guard. */
function guarded(workflow: Workflow, guard: StuckGuard): Workflow {
  return {
    activate: (activation) => timed(guard, `an activation of run ${activation.runId ?? '?'}`, () => workflow.activate(activation)),
    getAndResetSinkCalls: () => workflow.getAndResetSinkCalls(),
    dispose: () => workflow.dispose(),
  };
}

function timed<T>(guard: StuckGuard, what: string, call: () => Promise<T>): Promise<T> {
  const timer = setTimeout(
    () => guard.onStuck(`the workflow thread has been in ${what} for ${guard.stuckAfterMs} ms: workflow code that never returns`),
    guard.stuckAfterMs,
  );
  // A stuck thread must not be what keeps a shutting-down process alive either.
  timer.unref();
  return call().finally(() => clearTimeout(timer));
}

/** The worker class for a pool: the SDK's own, or one without the per-call watchdog (see unwatchedWorkerClass). */
export function workerClass(watchdog: boolean): typeof Worker {
  return watchdog ? Worker : UNWATCHED_WORKER;
}

const UNWATCHED_WORKER = unwatchedWorkerClass();
