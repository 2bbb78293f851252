import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  makeContinueAsNewFunc,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  TerminatedFailure,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  fanOutProgress,
  getOwn,
  parseSummary,
  summaryScalars,
  setOwn,
  targetParameters,
  type FanOutPlan,
  type FanOutResult,
  type FanOutTarget,
} from '../shared/fan-out.js';
import { JobStatus, type JobInput, type JobState } from '../shared/job-model.js';
import { childJobInput, jobStartOptions } from '../shared/job-start.js';
import { compactInput } from '../shared/start-input.js';
import { nowSec } from '../shared/time.js';
import type { JobActivities } from '../activities/types.js';
import { housekeepingQueue } from '../shared/task-queues.js';
import type { JobRun } from './job-run.js';
import type { RunOutcome } from './run-outcome.js';
// A cycle (job-workflow imports job-run, which imports this module), resolved by the time a child starts.
import { GenericJob } from './job-workflow.js';
import { windUpReplacedTargets } from './replaced-targets.js';

/**
 * A fan-out job's run: one child job per target of its plan, at most `poolSize` at once, each a
 * job of its own (upstream_job_id = this job). Progress is checked in as each child ends; the run
 * fails, naming them, when any target did not succeed.
 */
/** A stop that overtakes a fan-out's hand-over, or its last running target, ends the job (patch id). */
const STOP_AT_HAND_OVER = 'stop-overtaking-a-hand-over-ends-the-fan-out';
/** Targets are the results' own keys (patch id). */
const OWN_TARGET_KEYS = 'fan-out-targets-are-own-keys';
/** A target an operator closed is read as GET reads it, for its summary (patch id). */
const CLOSED_TARGET_READ = 'closed-target-read-for-its-summary';

/** Only for a target closed from outside; a read that fails leaves its summary out. */
function readClosedTarget(input: { jobId: string }): Promise<JobState | undefined> {
  const { readClosedTarget: read } = proxyActivities<JobActivities>({
    taskQueue: housekeepingQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
  // The parent may be winding up a cancel of its own: the read still goes out.
  return CancellationScope.nonCancellable(() => read(input)).catch(() => undefined);
}

export async function runFanOut(run: JobRun, plan: FanOutPlan): Promise<RunOutcome> {
  run.moveTo(JobStatus.Running);
  await windUpReplacedTargets(run);
  // A run continued as new skips what its predecessors did; a retry runs only the targets that did
  // not succeed before, the others keeping their results.
  const { resume, fanOutDone } = run.input;
  const results: Record<string, FanOutResult> = { ...(resume?.results ?? fanOutDone) };
  run.state.results = results;
  // A target named like an Object.prototype key (`constructor`, `__proto__`) is a target like any.
  const own = patched(OWN_TARGET_KEYS);
  const has = (target: string) => (own ? Object.hasOwn(results, target) : target in results);
  const resultOf = (target: string) => (own ? getOwn(results, target) : results[target]);
  const queue = plan.targets.filter((t) => (resume ? !has(t.target) : resultOf(t.target)?.status !== JobStatus.Success));
  const limit = run.input.timings.fanOutContinueAfterEvents ?? 8000;
  const running = new Map<string, Promise<string>>();
  while (queue.length > 0 || running.size > 0) {
    const info = workflowInfo();
    // A long history is handed over: no new target starts, the running ones finish, then the next run goes on.
    const handOver = queue.length > 0 && (info.continueAsNewSuggested || info.historyLength >= limit);
    if (handOver && running.size === 0 && run.op === undefined) return { kind: 'continue' };
    while (!handOver && running.size < plan.poolSize && queue.length > 0 && run.op === undefined) {
      const target = queue.shift()!;
      running.set(target.target, runTarget(run, plan, target, results));
    }
    if (running.size === 0) break;
    const finished = await Promise.race(running.values());
    running.delete(finished);
    run.checkIn({ revision: run.state.revision, message: JSON.stringify(fanOutProgress(plan, results, running.size)), at: nowSec() });
  }
  // Stopped with targets never started (the stop came as the last running one ended): not done.
  if (run.op !== undefined && queue.length > 0 && patched(STOP_AT_HAND_OVER)) return { kind: 'op', op: run.op };
  const failed = Object.entries(results)
    .filter(([, r]) => r.status !== JobStatus.Success)
    .sort(([a], [b]) => a.localeCompare(b));
  if (failed.length === 0) return { kind: 'done' };
  const names = failed.map(([target, r]) => `${target} (${r.status})`);
  return {
    kind: 'failed',
    message: `${failed.length} of ${plan.targets.length} targets did not succeed: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`,
  };
}

/** Starts one target's child job and resolves, never rejects, with the target's name once it has ended. */
async function runTarget(run: JobRun, plan: FanOutPlan, target: FanOutTarget, results: Record<string, FanOutResult>): Promise<string> {
  const child = childJobInput(
    run.input,
    {
      name: plan.childName,
      parameters: { ...plan.shared, ...targetParameters(plan, target) },
      retry: plan.retry,
      ...(plan.concurrency !== undefined ? { concurrency: plan.concurrency } : {}),
      target: target.target,
    },
    uuid4().replace(/-/g, '').slice(0, 24),
    nowSec(),
  );
  const { workflowId, args, memo, typedSearchAttributes } = jobStartOptions(child);
  // Started outside the run's scope: a stop reaches children as the job's own stop signal (finishWithOp), not as a workflow cancel.
  const handle = await CancellationScope.nonCancellable(() =>
    startChild(GenericJob, {
      workflowId,
      args,
      memo,
      typedSearchAttributes,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `${plan.childName} of ${target.target}, for job ${run.input.id}`,
    }),
  );
  run.recordSubJob(child.id);
  let state: JobState | undefined;
  let status: string = JobStatus.Error;
  try {
    state = await handle.result();
    status = state.status;
  } catch (err) {
    const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure) state = cause.details?.[0] as JobState | undefined;
    // Closed from outside (Web UI, CLI): read as GET reads the target (`reconcile`).
    status =
      cause instanceof TerminatedFailure
        ? JobStatus.Stopped
        : cause instanceof CancelledFailure
          ? JobStatus.Cancelled
          : (state?.status ?? JobStatus.Error);
    if ((cause instanceof TerminatedFailure || cause instanceof CancelledFailure) && patched(CLOSED_TARGET_READ)) {
      state = (await readClosedTarget({ jobId: child.id })) ?? state;
    }
  }
  const summary = summaryScalars(parseSummary(state?.check_in));
  const result = summary ? { job_id: child.id, status, summary } : { job_id: child.id, status };
  if (patched(OWN_TARGET_KEYS)) setOwn(results, target.target, result);
  else results[target.target] = result;
  return target.target;
}

/**
 * The next run takes over where this one is (a fan-out job whose history grew long): its state,
 * the targets done so far (job id and status only), and the hook events not yet delivered. The
 * memo stays small.
 */
export async function continueFanOutAsNew(run: JobRun): Promise<'stopped'> {
  const { input, state, outbox } = run;
  // The hook log goes along too, or GET /jobs/{id}/hooks would show only the last run's events.
  const hooks = outbox ? { events: await outbox.pause(), progress: outbox.progress, log: outbox.log } : undefined;
  // A stop or cancel that came while the hand-over waited (for a hook's POST, for handlers) ends
  // the job here: a next run would not know of it.
  if (run.op !== undefined && patched(STOP_AT_HAND_OVER)) {
    outbox?.resume();
    run.startHookDelivery();
    // The slot kept for the next run (RunExecution.admitted) goes back.
    if (run.slot.held) await run.slot.release();
    return 'stopped';
  }
  const results = Object.fromEntries(Object.entries(state.results ?? {}).map(([t, r]) => [t, { job_id: r.job_id, status: r.status }]));
  // The next run supersedes nothing: the runs before it are the job's own past.
  const { resume: _previous, supersedes: _supersedes, ...original } = input;
  const queueSlot = run.slot.keptFor(run.queuePlaceMs);
  const next: JobInput = {
    ...original,
    resume: { state: { ...state, results: {}, sub_jobs: [] }, results, ...(hooks ? { hooks } : {}), ...(queueSlot ? { queueSlot } : {}) },
  };
  const { memo, typedSearchAttributes } = jobStartOptions(original, { ...state, results: {}, sub_jobs: [] });
  return makeContinueAsNewFunc<typeof GenericJob>({ workflowType: workflowInfo().workflowType, memo, typedSearchAttributes })(
    compactInput(next),
  );
}
