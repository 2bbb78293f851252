import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  upsertMemo,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExecuteJobResult, JobActivities } from '../activities/types.js';
import { FailureType, JOB_RUN_FAILURES } from '../shared/failures.js';
import {
  initialState,
  isFinal,
  JobKind,
  JobStatus,
  MEMO_INPUT,
  MEMO_STATE,
  OpCommand,
  statusCode,
  toStats,
  type JobInput,
  type JobState,
} from '../shared/job-model.js';
import { jobSearchAttributes, JobStatusKey } from '../shared/search-attributes.js';
import {
  cancelSignal,
  checkInSignal,
  hookProgressQuery,
  jobStartedSignal,
  launchJobUpdate,
  opCommandQuery,
  statsQuery,
  stopSignal,
} from './job-messages.js';
import { retryDelayMs } from './retry-delay.js';
import { housekeepingQueue } from '../shared/task-queues.js';
import { HookOutbox } from './hook-outbox.js';
import { DEFAULT_HOOK_TIMINGS, hookEvent } from '../shared/hook-event.js';

type RunOutcome = { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'op'; op: OpCommand };

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * One job, one workflow. Status lives here and only moves forward within a revision; every change
 * is mirrored into the memo and the `JobStatus` search attribute so the API can read a job
 * without a worker (describe/visibility) and operators can filter in the Web UI.
 */
export async function runJobWorkflow(submitted: JobInput): Promise<JobState> {
  const input = resolveExecutionInput(submitted);
  const state: JobState = initialState(input);
  let op: OpCommand | undefined;
  const hookTimings = input.timings.hooks ?? DEFAULT_HOOK_TIMINGS;
  const outbox = input.statusHook ? new HookOutbox(input.statusHook, hookTimings) : undefined;
  // Deliveries go on while the job runs; cancelling the workflow must not cut them off.
  if (outbox) void CancellationScope.nonCancellable(() => outbox.run());
  setHandler(hookProgressQuery, () => outbox?.progress ?? null);

  setHandler(stopSignal, () => {
    op ??= OpCommand.Stop;
  });
  setHandler(cancelSignal, () => {
    op ??= OpCommand.Cancel;
  });
  setHandler(statsQuery, () => state);
  setHandler(opCommandQuery, () => op ?? null);
  setHandler(jobStartedSignal, (event) => {
    if (event.revision === state.revision) moveTo(JobStatus.Running);
  });
  setHandler(checkInSignal, (event) => {
    // A late check-in from an abandoned run must not touch a newer revision or a finished job.
    if (event.revision !== state.revision || isFinal(state.status)) return;
    state.check_in = event.message;
    state.check_in_at = event.at;
    // A job that checks in has started, even if its Running report is still on its way;
    // moveTo publishes the check-in along with the status.
    const started = state.status !== JobStatus.Running && moveTo(JobStatus.Running);
    if (!started) {
      state.update_time = nowSec();
      publish(false);
    }
    outbox?.push(hookEvent(toStats(input, state), event.message));
  });

  setHandler(launchJobUpdate, async (request) => {
    if (op !== undefined || isFinal(state.status)) {
      throw ApplicationFailure.nonRetryable(`job ${input.id} is ending; it launches no more sub jobs`, 'JobEnding');
    }
    const now = nowSec();
    // uuid4() is deterministic in a workflow; its hex digits give a Harbor-form id.
    const child: JobInput = {
      id: uuid4().replace(/-/g, '').slice(0, 24),
      name: request.name,
      kind: JobKind.Generic,
      parameters: request.parameters,
      unique: false,
      upstreamJobId: input.id,
      enqueueTime: now,
      revision: now,
      retry: request.retry,
      timings: input.timings,
    };
    await startChild('GenericJob', {
      workflowId: child.id,
      args: [child],
      memo: { [MEMO_INPUT]: child, [MEMO_STATE]: initialState(child) },
      typedSearchAttributes: jobSearchAttributes(child, JobStatus.Pending),
      // A sub job is a job of its own: it outlives its parent's end; stop and cancel are passed on below.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    state.sub_jobs = [...(state.sub_jobs ?? []), child.id];
    publish(false);
    return child.id;
  });

  function publish(statusChanged: boolean): void {
    upsertMemo({ [MEMO_STATE]: { ...state } });
    if (statusChanged) upsertSearchAttributes([{ key: JobStatusKey, value: state.status }]);
  }

  function moveTo(next: JobStatus): boolean {
    if (isFinal(state.status)) return false;
    if (statusCode(next) < statusCode(state.status)) return false;
    if (next === state.status) return true;
    state.status = next;
    state.update_time = nowSec();
    publish(true);
    // Harbor fires no hook for Pending or Scheduled (creation, a retry's reset).
    if (next !== JobStatus.Pending && next !== JobStatus.Scheduled) outbox?.push(hookEvent(toStats(input, state)));
    return true;
  }

  /**
   * A finished job gives its hook events a moment to go out; whatever is still failing then is
   * handed, in order, to a HookDelivery workflow so the job can close.
   */
  async function finishHooks(): Promise<void> {
    if (!outbox) return;
    if (hookTimings.drainMs > 0) await condition(() => outbox.drained, hookTimings.drainMs);
    if (outbox.drained) return;
    const rest = await outbox.pause();
    if (rest.length === 0) return;
    await startChild('HookDelivery', {
      workflowId: `${input.id}-hooks-${state.revision}`,
      args: [{ jobId: input.id, url: outbox.url, timings: hookTimings, events: rest, progress: outbox.progress }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `status hooks of ${input.name} job ${input.id} still being retried`,
    });
  }

  /** Harbor's reset on retry: a new revision that starts over at Pending. */
  function newRevision(): void {
    state.revision = Math.max(nowSec(), state.revision + 1);
    state.status = JobStatus.Pending;
    state.update_time = nowSec();
    delete state.check_in;
    delete state.check_in_at;
    delete state.run_at;
    publish(true);
  }

  const { executeJob } = proxyActivities<JobActivities>({
    startToCloseTimeout: input.timings.maxRunMs,
    heartbeatTimeout: input.timings.heartbeatTimeoutMs,
    // Wait for the job to acknowledge a stop, bounded by the grace period below.
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    // A lost worker or a missed heartbeat is retried by Temporal without limit; a failure of the
    // job itself ends the run and the workflow applies the job's own retry policy.
    retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: JOB_RUN_FAILURES },
  });

  const { pruneExecutions } = proxyActivities<JobActivities>({
    taskQueue: housekeepingQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });

  /** A periodic job's execution, as it ends, deletes the executions beyond the job's history limits. */
  async function pruneHistory(): Promise<void> {
    if (!input.upstreamJobId || !input.historyLimits || input.kind !== JobKind.Scheduled) return;
    const self = { id: input.id, startedAt: workflowInfo().startTime.getTime(), succeeded: state.status === JobStatus.Success };
    // Housekeeping must never change how the job ended.
    await pruneExecutions({ upstreamJobId: input.upstreamJobId, self, limits: input.historyLimits }).catch(() => undefined);
  }

  async function runOnce(): Promise<RunOutcome> {
    let settled: RunOutcome | undefined;
    const scope = new CancellationScope();
    void scope
      .run(() =>
        executeJob({
          id: input.id,
          name: input.name,
          parameters: input.parameters,
          revision: state.revision,
          upstreamJobId: input.upstreamJobId,
        }),
      )
      .then(
        (result: ExecuteJobResult) => {
          settled = result.outcome === 'done' ? { kind: 'done' } : { kind: 'op', op: result.outcome };
        },
        (err: unknown) => {
          settled = { kind: 'failed', message: failureMessage(err) };
        },
      );
    await condition(() => settled !== undefined || op !== undefined);
    if (settled !== undefined) return settled;
    scope.cancel();
    // A job that ignores the stop is abandoned after the grace period; its late result is ignored.
    await condition(() => settled !== undefined, input.timings.stopGraceMs);
    return { kind: 'op', op: op ?? OpCommand.Stop };
  }

  async function finishWithOp(command: OpCommand): Promise<void> {
    moveTo(command === OpCommand.Cancel ? JobStatus.Cancelled : JobStatus.Stopped);
    // Stop or cancel of a job reaches its sub jobs; one that already ended ignores it.
    for (const childId of state.sub_jobs ?? []) {
      await getExternalWorkflowHandle(childId)
        .signal(command === OpCommand.Cancel ? cancelSignal : stopSignal)
        .catch(() => undefined);
    }
  }

  try {
    if (state.status === JobStatus.Scheduled && state.run_at !== undefined) {
      // Waiting inside the workflow (not with startDelay) keeps the job readable and stoppable.
      const waitMs = Math.max(0, state.run_at * 1000 - Date.now());
      await condition(() => op !== undefined, waitMs);
    }
    for (;;) {
      if (op !== undefined) {
        await finishWithOp(op);
        break;
      }
      const outcome = await runOnce();
      if (outcome.kind === 'done') {
        moveTo(JobStatus.Success);
        break;
      }
      if (outcome.kind === 'op') {
        await finishWithOp(outcome.op);
        break;
      }
      state.fails += 1;
      state.last_error = outcome.message;
      if (!input.retry.shouldRetry || state.fails >= input.retry.maxFails || op !== undefined) {
        moveTo(JobStatus.Error);
        break;
      }
      newRevision();
      await condition(() => op !== undefined, retryDelayMs(input.retry, state.fails));
    }
  } catch (err) {
    // Cancelling the workflow itself (Web UI, `temporal workflow cancel`) is a job cancel.
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      op ??= OpCommand.Cancel;
      await finishWithOp(op);
      await finishHooks();
      await pruneHistory();
    });
    throw err;
  }

  await finishHooks();
  await pruneHistory();

  if (state.status === JobStatus.Error) {
    throw ApplicationFailure.create({
      type: FailureType.JobError,
      message: `job ${input.name} failed after ${state.fails} run(s): ${state.last_error ?? 'unknown error'}`,
      nonRetryable: true,
      details: [state],
    });
  }
  return state;
}

/**
 * A schedule starts every execution of a periodic job with the same input; the execution's own id
 * and times are its workflow's.
 */
function resolveExecutionInput(input: JobInput): JobInput {
  if (input.id) return input;
  const info = workflowInfo();
  const started = Math.floor(info.startTime.getTime() / 1000);
  return { ...input, id: info.workflowId, enqueueTime: started, revision: started };
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
