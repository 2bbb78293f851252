import { CancellationScope, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JobActivities } from '../activities/types.js';
import { housekeepingQueue } from '../shared/task-queues.js';

/**
 * `temporal workflow reset` (or the Web UI's reset) ends a job's run and starts a new one under the
 * same id; the run it replaced stays in visibility, so the job would show as two rows, the old one
 * Stopped if it was running (a reset terminates it). A reset is the operator's re-run: as with a
 * retry, the replaced run is deleted, its log lines kept.
 *
 * A reset run replays the replaced run's events up to the reset point, its first history event
 * included: its original run id is the replaced run's. At each step of the job (before its wait,
 * each run, its end) a reset run asks for the deletion unless an earlier ask is still out:
 * `patched` is false at the steps an older run took without the marker and true at new ones, on
 * every replay alike. Asking again is how a second reset (which replays the first re-run's asks,
 * long done) gets its own; the activity keeps only the id's current run, so an ask a reset
 * dispatches again, with the input of the run it replaced, deletes nothing it should keep.
 */
export class ReplacedRuns {
  private out: Promise<void> | undefined;

  ask(): void {
    if (this.out !== undefined) return;
    const { runId, originalExecutionRunId, workflowId, taskQueue, unsafe } = workflowInfo();
    // A replay asks `patched` whatever the run: it records nothing then, and only it can tell a
    // reset history where a replayer (`Worker.runReplayHistories`) gives the run the original's id.
    if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
    if (!patched('reset-deletes-the-run-it-replaced')) return;
    const { deleteSupersededRuns } = proxyActivities<JobActivities>({
      taskQueue: housekeepingQueue(taskQueue),
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '4 seconds', maximumAttempts: 6 },
    });
    const settle = () => {
      this.out = undefined;
    };
    // A cancelled workflow (Web UI, CLI, a retry winding it up) still gets its ask through.
    this.out = CancellationScope.nonCancellable(() => deleteSupersededRuns({ workflowId })).then(settle, settle);
  }

  /** The ask still out, if any: the job waits for it before it closes (a closed workflow's activity is dropped). */
  get pending(): Promise<void> | undefined {
    return this.out;
  }
}
