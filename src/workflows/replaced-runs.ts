import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { CancellationScope, patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { JobActivities } from '../activities/types.js';

const CHECK_IN_ASK_INTERVAL_MS = 60_000;
/** A schedule's run that starts this long after the time it is for is a backfill (or a catch-up after an outage). */
const PAST_FIRE_MS = 60_000;
const ScheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * An operator's backfill (`temporal schedule backfill`) of a fire that already ran starts it again
 * under the same execution id (Temporal starts backfills allowing a duplicate id), and the
 * execution would be listed twice: such a run replaces the earlier one, as a retry does (replay:
 * as before). A catch-up fire after an outage asks too, and finds nothing to delete.
 */
export function firesPastTimeAgain(): boolean {
  const { startTime, typedSearchAttributes } = workflowInfo();
  const scheduledAt = typedSearchAttributes.get(ScheduledStartTimeKey);
  if (!scheduledAt || startTime.getTime() - scheduledAt.getTime() < PAST_FIRE_MS) return false;
  return patched('backfilled-fire-replaces-its-earlier-run');
}

/**
 * `temporal workflow reset` (or the Web UI's reset) ends a job's run and starts a new one under the
 * same id; the run it replaced stays in visibility, so the job would show as two rows, the old one
 * Stopped if it was running (a reset terminates it). A reset is the operator's re-run: as with a
 * retry, the replaced run is deleted, its log lines kept.
 *
 * A reset run replays the replaced run's events up to the reset point, its first history event
 * included: its original run id is the replaced run's. At each step of the job (before its wait,
 * each run, its check-ins at most once a minute, its end) a reset run asks for the deletion unless
 * an earlier ask is still out: `patched` is false at the steps an older run took without the
 * marker and true at new ones, on every replay alike. Asking again is how a second reset (which
 * replays the first re-run's asks, long done) gets its own. The activity keeps the id's current
 * run, whoever asks. A retry's run (and a unique job's new run) asks once at its start too: the API
 * deletes the run it replaced right after the start, and the run's ask covers an API that died first.
 */
export class ReplacedRuns {
  private out: Promise<void> | undefined;
  /** A retry's or a unique resubmit's run asks once at its start, reset or not (see JobInput.supersedes). */
  private supersedeAsked: boolean;

  constructor(supersedes = false) {
    this.supersedeAsked = !supersedes;
  }
  /** Workflow time of the last ask: check-ins ask at most once a minute. */
  private askedAt: number | undefined;

  /**
   * At a check-in: a reset to a point after the run started (`--type LastWorkflowTask` of a running
   * job) has no other step until the run ends, which may be hours. Workflow time keeps it replayable.
   */
  askAtCheckIn(): void {
    if (this.askedAt !== undefined && Date.now() - this.askedAt < CHECK_IN_ASK_INTERVAL_MS) return;
    this.ask();
  }

  /**
   * As the job's run starts (again): a reset past the run's start (`--type LastWorkflowTask` of a
   * running job) starts the run again on a worker, which may not check in for hours. Its own patch:
   * a reset run recorded before asked here nothing.
   */
  askAtJobStart(): void {
    const { runId, originalExecutionRunId, unsafe } = workflowInfo();
    if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
    if (!patched('reset-run-asks-as-its-job-starts')) return;
    this.ask();
  }

  ask(): void {
    if (this.out !== undefined) return;
    const { runId, originalExecutionRunId, workflowId, unsafe } = workflowInfo();
    if (!this.supersedeAsked) {
      this.supersedeAsked = true;
    } else {
      // A replay asks `patched` whatever the run: it records nothing then, and only it can tell a
      // reset history where a replayer (`Worker.runReplayHistories`) gives the run the original's id.
      if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
      if (!patched('reset-deletes-the-run-it-replaced')) return;
    }
    // A local activity: the job's last ask runs in the workflow task that completes it, so a reset
    // to that task (`--type LastWorkflowTask` of a finished job) runs the ask again, where an
    // activity's completion would have been replayed and the re-run would end asking nothing.
    const { deleteSupersededRuns } = proxyLocalActivities<JobActivities>({
      startToCloseTimeout: '30 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '4 seconds', maximumAttempts: 4 },
    });
    const settle = () => {
      this.out = undefined;
    };
    this.askedAt = Date.now();
    // A cancelled workflow (Web UI, CLI, a retry winding it up) still gets its ask through.
    this.out = CancellationScope.nonCancellable(() => deleteSupersededRuns({ workflowId })).then(settle, settle);
  }

  /** The ask still out, if any: the job waits for it before it closes (a closed workflow's activity is dropped). */
  get pending(): Promise<void> | undefined {
    return this.out;
  }
}
