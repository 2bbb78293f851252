import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JobActivities } from '../activities/types.js';
import { housekeepingQueue } from '../shared/task-queues.js';

/**
 * `temporal workflow reset` (or the Web UI's reset) ends a job's run and starts a new one under the
 * same id; the run it replaced stays in visibility, so the job would show as two rows, the old one
 * Stopped if it was running (a reset terminates it). A reset is the operator's re-run: as with a
 * retry, the replaced run is deleted, its log lines kept.
 *
 * A reset run replays the replaced run's events up to the reset point, its first history event
 * included: its original run id is the replaced run's. The deletion is asked for at the job's next
 * step after the reset point (its next run, or its end): `patched` is false at the steps the old
 * run took (they replay without the marker) and true at new ones, on every replay alike.
 */
export class ReplacedRuns {
  private deletion: Promise<void> | undefined;

  /** Asks for the deletion once, at the first step after a reset; nothing for a run that was not reset. */
  deleteAfterReset(): void {
    if (this.deletion !== undefined) return;
    const { runId, originalExecutionRunId, workflowId, taskQueue, unsafe } = workflowInfo();
    // A replay asks `patched` whatever the run: it records nothing then, and only it can tell a
    // reset history where a replayer (`Worker.runReplayHistories`) gives the run the original's id.
    if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
    if (!patched('reset-deletes-the-run-it-replaced')) return;
    const { deleteSupersededRuns } = proxyActivities<JobActivities>({
      taskQueue: housekeepingQueue(taskQueue),
      startToCloseTimeout: '1 minute',
      // Visibility may not list the replaced run at once; past these tries it stays listed.
      retry: { initialInterval: '1 second', maximumInterval: '4 seconds', maximumAttempts: 6 },
    });
    this.deletion = deleteSupersededRuns({ workflowId, runId }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** The deletion asked for, if any: the job waits for it before it closes (a closed workflow's activity is dropped). */
  get pending(): Promise<void> | undefined {
    return this.deletion;
  }
}
