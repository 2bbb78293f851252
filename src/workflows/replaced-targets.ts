import { CancellationScope, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JobActivities } from '../activities/types.js';
import { housekeepingQueue } from '../shared/task-queues.js';
import type { JobRun } from './job-run.js';

/** Past the stop's grace and a lost run's heartbeat timeout: a target that ignores its stop is not waited for longer. */
const MARGIN_MS = 10_000;

/**
 * An operator's reset of a fan-out job (`temporal workflow reset`, the Web UI) starts a run that
 * plans and starts the targets again, while those the replaced run started go on (a target
 * outlives its parent): two jobs of one target would work at once (a retention repository's
 * deletes twice over). The new run stops them and waits for them before it starts its own, as a
 * retry through the API waits for them (it is refused meanwhile). A run that is not a reset's
 * asks nothing; a replay asks `patched` whatever the run, as ReplacedRuns does.
 */
export async function windUpReplacedTargets(run: JobRun): Promise<void> {
  const { runId, originalExecutionRunId, unsafe, taskQueue } = workflowInfo();
  if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
  if (!patched('reset-fan-out-winds-up-replaced-targets')) return;
  const { stopGraceMs, heartbeatTimeoutMs } = run.input.timings;
  const waitMs = stopGraceMs + heartbeatTimeoutMs + MARGIN_MS;
  const { windUpReplacedTargets: windUp } = proxyActivities<JobActivities>({
    taskQueue: housekeepingQueue(taskQueue),
    startToCloseTimeout: waitMs + 60_000,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
  // A stop meanwhile is the job's to take once this is done: no target starts after it.
  await CancellationScope.nonCancellable(() => windUp({ jobId: run.input.id, runId, waitMs })).catch(() => undefined);
}

/**
 * A reset run's own run would start at once beside the replaced run's activity, which goes on
 * until a heartbeat tells it its run ended and then has the stop grace: a repository job's
 * deletes twice over its `concurrency.deletes`. The reset run waits for that first, when the
 * replaced run's activity was still working (a reset of a finished job waits for nothing). A type
 * with a limit waits in its queue's slot instead (RunSlot); a short job's local activity is not
 * the server's to see, and its cap is short.
 */
export async function outwaitReplacedRun(run: JobRun): Promise<void> {
  const { runId, originalExecutionRunId, unsafe, taskQueue, workflowId } = workflowInfo();
  if (runId === originalExecutionRunId && !unsafe.isReplaying) return;
  const { concurrency, shortCapMs, timings } = run.input;
  if (concurrency !== undefined || shortCapMs !== undefined) return;
  if (!patched('reset-run-outwaits-replaced-activity')) return;
  const waitMs = timings.heartbeatTimeoutMs + timings.stopGraceMs;
  const { outwaitReplacedRun: outwait } = proxyActivities<JobActivities>({
    taskQueue: housekeepingQueue(taskQueue),
    startToCloseTimeout: waitMs + 60_000,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
  // A stop meanwhile is the job's to take once this is done: its run has not started.
  await CancellationScope.nonCancellable(() => outwait({ jobId: workflowId, runId, waitMs })).catch(() => undefined);
}
