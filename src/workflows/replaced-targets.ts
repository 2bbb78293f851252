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
