import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { JobStatus, MEMO_INPUT, OpCommand, type JobState } from '../shared/job-model.js';
import { jobStartOptions } from '../shared/job-start.js';
import { executionInput, expandInput, TIMING_DEFAULTS, type StartInput } from '../shared/start-input.js';
import {
  cancelSignal,
  checkInSignal,
  checkInUpdate,
  jobStartedUpdate,
  hookLogQuery,
  hookProgressQuery,
  jobStartedSignal,
  launchJobUpdate,
  opCommandQuery,
  statsQuery,
  stopSignal,
} from './job-messages.js';
import { continueFanOutAsNew } from './fan-out.js';
import { slotGrantedSignal } from './queue-messages.js';
import { JobRun } from './job-run.js';
import { outwaitReplacedRun } from './replaced-targets.js';
import { firesPastTimeAgain, ReplacedRuns } from './replaced-runs.js';
import { postErrorOfRetriedRun, postRunningIfUnreported } from './run-hooks.js';
import { filledIn } from './hand-written-input.js';

// Not async, and each step of the ending is skipped when it has nothing to do: in a workflow every
// promise costs a stack trace the SDK captures for its stack-trace query, a large share of a NOOP
// job's workflow CPU (it made 47 promises where a bare one-local-activity workflow makes 12; now 30, and
// 16 on a short run: see JobRun.runShortOnce).

/** A job submitted to run now (or a sub job). */
export function GenericJob(input: StartInput): Promise<JobState> {
  return runJobWorkflow(input);
}

/** A job that runs after a delay, or an execution of a periodic job. */
export function ScheduledJob(input: StartInput): Promise<JobState> {
  return runJobWorkflow(input);
}

/** One job, one workflow: the handlers and the main loop; the moves live in JobRun. */
export async function runJobWorkflow(submitted: StartInput): Promise<JobState> {
  const info = workflowInfo();
  const run = new JobRun(executionInput(expandInput(filledIn(submitted, info)), info.workflowId, info.startTime));
  // A schedule an operator replaced with `temporal schedule update` starts executions without the
  // job's memo and search attributes, so the API could not read them: the job records them itself.
  if (info.memo?.[MEMO_INPUT] === undefined && patched('record-missing-job-memo')) {
    const { memo, typedSearchAttributes } = jobStartOptions(run.input, run.state);
    upsertMemo({ [MEMO_INPUT]: memo[MEMO_INPUT] });
    upsertSearchAttributes(typedSearchAttributes);
  }
  run.startHookDelivery();
  const replaced = new ReplacedRuns(run.input.supersedes === true || firesPastTimeAgain());

  handleMessages(run, replaced);

  try {
    await outwaitReplacedRun(run);
    replaced.ask();
    if (run.waitsUntilDue) await run.waitUntilDue();
    for (;;) {
      if (run.op !== undefined) {
        await run.finishWithOp(run.op);
        break;
      }
      replaced.ask();
      const outcome = await run.runOnce();
      if (outcome.kind === 'done') {
        postRunningIfUnreported(run);
        run.moveTo(JobStatus.Success);
        break;
      }
      if (outcome.kind === 'op') {
        await run.finishWithOp(outcome.op);
        break;
      }
      if (outcome.kind === 'continue') {
        await condition(allHandlersFinished);
        replaced.ask();
        if (replaced.pending) await replaced.pending;
        // Continues as new, unless a stop came meanwhile.
        await continueFanOutAsNew(run);
        await run.finishWithOp(run.op!);
        break;
      }
      // Parameters that fail the job's schema: Harbor refuses them before any run (no Running).
      if (!outcome.final) postRunningIfUnreported(run);
      if (!run.recordFailure(outcome.message, outcome.final)) {
        run.moveTo(JobStatus.Error);
        break;
      }
      postErrorOfRetriedRun(run);
      await run.newRevision();
    }
  } catch (err) {
    // Cancelling the workflow itself (Web UI, `temporal workflow cancel`) is a job cancel.
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      run.ask(OpCommand.Cancel);
      await run.settleCancelledRun();
      await run.finishWithOp(run.op ?? OpCommand.Cancel);
      if (run.hasWrapUp) await run.wrapUp();
      if (run.hasAbandonedRun) await run.outliveAbandonedRun({ cancelled: true });
      replaced.ask();
      if (replaced.pending) await replaced.pending;
    });
    throw err;
  }
  let cancelledWhenFinal = false;
  try {
    if (run.hasWrapUp) await run.wrapUp();
    if (run.hasAbandonedRun) await run.outliveAbandonedRun();
  } catch (err) {
    // The job is final: a workflow cancel now (Web UI, CLI) has nothing left to cancel. Its hooks
    // are still handed over, at once, and only the wait on an abandoned run ends.
    if (!isCancellation(err) || !patched('final-job-outlives-cancel')) throw err;
    cancelledWhenFinal = true;
    await CancellationScope.nonCancellable(() => (run.hasWrapUp ? run.wrapUp({ drain: false }) : Promise.resolve()));
  }
  // A sub job being launched as the job ends still gets its answer.
  if (!allHandlersFinished()) {
    await (cancelledWhenFinal ? CancellationScope.nonCancellable(() => condition(allHandlersFinished)) : condition(allHandlersFinished));
  }
  replaced.ask();
  if (replaced.pending) await replaced.pending;
  return run.result();
}

/** The job's queries, signals and updates: registered before the workflow's first await, so none is missed. */
function handleMessages(run: JobRun, replaced: ReplacedRuns): void {
  setHandler(hookProgressQuery, () => run.outbox?.progress ?? null);
  setHandler(hookLogQuery, () => run.outbox?.view() ?? []);
  setHandler(statsQuery, () => run.state);
  setHandler(opCommandQuery, () => run.op ?? null);
  setHandler(stopSignal, () => run.ask(OpCommand.Stop));
  setHandler(cancelSignal, () => run.ask(OpCommand.Cancel));
  setHandler(jobStartedSignal, (event) => {
    if (event.revision === run.state.revision) run.moveTo(JobStatus.Running);
    replaced.askAtJobStart();
  });
  setHandler(checkInSignal, (event) => {
    run.checkIn(event);
    replaced.askAtCheckIn();
  });
  setHandler(jobStartedUpdate, (event) => {
    if (event.revision === run.state.revision) run.moveTo(JobStatus.Running);
    replaced.askAtJobStart();
  });
  setHandler(checkInUpdate, (event) => {
    run.checkIn(event);
    replaced.askAtCheckIn();
    // Each check-in sent as an update costs a dozen history events with a status hook (update,
    // task, memo, the hook's activity); a job checking in twice a second for hours would reach
    // Temporal's limit of 51,200 and be terminated. Past the budget (`job.checkin_history_events`,
    // 10,000; Temporal warns at 10,240) the run carries its check-ins in heartbeats (no events):
    // stats still show the newest, and the final status hook carries the last.
    // Large check-ins reach Temporal's 50 MB limit first: the budget counts bytes too.
    const { historyLength, historySize } = workflowInfo();
    const { checkInHistoryEvents = TIMING_DEFAULTS.checkInHistoryEvents, historyBudgetBytes = TIMING_DEFAULTS.historyBudgetBytes } =
      run.input.timings;
    return historyLength >= checkInHistoryEvents || historySize >= historyBudgetBytes ? { carry: true } : undefined;
  });
  setHandler(slotGrantedSignal, ({ ticket }) => run.slotGranted(ticket));
  setHandler(launchJobUpdate, (request) => run.launchSubJob(request), {
    validator: (_request) => {
      if (run.ending) throw new Error(`job ${run.input.id} is ending; it launches no more sub jobs`);
    },
  });
}
