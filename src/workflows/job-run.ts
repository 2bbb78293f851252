import {
  ApplicationFailure,
  CancellationScope,
  condition,
  ParentClosePolicy,
  patched,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedCheckIn } from '../activities/types.js';
import { FailureType } from '../shared/failures.js';
import { DEFAULT_HOOK_TIMINGS, hookEvent, type HookTimings } from '../shared/hook-event.js';
import { childJobInput, jobStartOptions } from '../shared/job-start.js';
import {
  initialState,
  isFinal,
  JobStatus,
  MEMO_STATE,
  OpCommand,
  statusCode,
  toStats,
  type JobInput,
  type JobResume,
  type JobState,
} from '../shared/job-model.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { redactText } from '../shared/redact.js';
import { nowSec } from '../shared/time.js';
import { retryDelayMs } from '../shared/backoff.js';
import { HookOutbox } from './hook-outbox.js';
// A cycle (job-workflow imports this module), resolved by the time a sub job is launched.
import { GenericJob } from './job-workflow.js';
import type { CheckInEvent, LaunchJobRequest } from './job-messages.js';
import { runActivities, type RunActivities } from './run-activities.js';
import { hasWrapUp, wrapUp } from './run-ending.js';
import { signalLateSubJob, signalSubJob } from './sub-job-signals.js';
import { memoState, SUB_JOBS_IN_MEMO } from './state-memo.js';
import { countFanOutEnd } from './job-sinks.js';
import { RunExecution } from './run-execution.js';
import type { RunOutcome } from './run-outcome.js';
import type { RunSlot } from './run-slot.js';

/** The check-in a run handed back with its result is posted as a check-in hook (replay: not before). */
const CARRIED_CHECK_INS_GO_OUT = 'carried-check-ins-go-out';
/** A running job's memo carries its first SUB_JOBS_IN_MEMO sub job ids (replay: all of them). */
const SUB_JOBS_MEMO_CAPPED = 'sub-jobs-memo-capped';
/** An abandoned fan-out publishes the results its targets brought in after its stop (patch id). */
const LATE_TARGETS_PUBLISHED = 'late-targets-published';

/**
 * One job's state and the moves it can make. Status lives here and only moves forward within a
 * revision; every change is mirrored into the memo and the `JobStatus` search attribute so the API
 * can read a job without a worker (describe/visibility) and operators can filter in the Web UI.
 * How a run goes is RunExecution's (run-execution.ts), the ending's wrap-up run-ending.ts's.
 */
export class JobRun {
  readonly state: JobState;
  /** The stop or cancel asked of the job, first one wins. */
  op: OpCommand | undefined;
  readonly outbox: HookOutbox | undefined;
  readonly hookTimings: HookTimings;
  private readonly activities: RunActivities;
  private readonly execution: RunExecution;
  /**
   * When the current run became pending (epoch ms): its place in its queue's line and what a queue
   * stop compares with. The run's start event as the server recorded it (`startTime`, submit order
   * whichever worker takes the first task; `runStartTime` is that first task's time), a reset run's
   * first task, or when it became due, or when a retry began.
   */
  pendingSinceMs: number;
  /** The queue slot a fan-out's previous run kept for this one (continued as new), with its place in line. */
  readonly keptSlot: JobResume['queueSlot'];
  /** The kept slot's place, until a retry. */
  private handedOverPlaceMs: number | undefined;
  /** A batch job's report history, known once it has planned. */
  reportHistory: number | undefined;
  /** The op already passed on to sub jobs, if any. */
  private opPassedOn: OpCommand | undefined;
  /** Set once wrapUp has run to its end, so a second call (after a cancel) does nothing twice. */
  private wrappedUp = false;
  /** The memo carries only the first sub job ids (SUB_JOBS_MEMO_CAPPED). */
  private subJobsCapped = false;

  constructor(readonly input: JobInput) {
    const { resume } = input;
    this.state = resume ? { ...resume.state } : initialState(input);
    // A reset run (its original run id is the replaced run's) is pending from the reset, not from the
    // replaced run's start, or a queue stop given between them, whose fence stays, would hold it back for good.
    const info = workflowInfo();
    const since = info.runId !== info.originalExecutionRunId ? info.runStartTime : info.startTime;
    this.pendingSinceMs = Math.max(since.getTime(), (this.state.run_at ?? 0) * 1000);
    // An operator's reset re-runs this start input long after the slot went back: a reset run gets in line.
    this.keptSlot = info.runId === info.originalExecutionRunId ? resume?.queueSlot : undefined;
    this.handedOverPlaceMs = this.keptSlot?.placeMs;
    this.hookTimings = input.timings.hooks ?? DEFAULT_HOOK_TIMINGS;
    this.outbox = input.statusHook ? HookOutbox.forJob(input, input.statusHook, this.hookTimings, this.state.revision) : undefined;
    this.activities = runActivities(input);
    this.execution = new RunExecution(this, this.activities);
  }

  /** Deliveries go on while the job runs; cancelling the workflow must not cut them off. */
  startHookDelivery(): void {
    const outbox = this.outbox;
    if (outbox) void CancellationScope.nonCancellable(() => outbox.run());
  }

  ask(command: OpCommand): void {
    this.op ??= command;
  }

  get ending(): boolean {
    return this.op !== undefined || isFinal(this.state.status);
  }

  /** `before`: what the status hook shows, when the state already holds what comes after the move (a check-in). */
  moveTo(next: JobStatus, before: JobState = this.state): boolean {
    const { state } = this;
    if (isFinal(state.status) || statusCode(next) < statusCode(state.status)) return false;
    if (next === state.status) return true;
    state.status = next;
    state.update_time = nowSec();
    this.publish(true);
    if (this.input.fanOut && isFinal(next)) countFanOutEnd(this.input.name, next);
    // Harbor fires no hook for Pending or Scheduled (creation, a retry's reset).
    if (next !== JobStatus.Pending && next !== JobStatus.Scheduled)
      this.outbox?.push(hookEvent(toStats(this.input, { ...before, status: next, update_time: state.update_time })));
    return true;
  }

  checkIn(event: CheckInEvent): void {
    const { state } = this;
    // A late check-in from an abandoned run must not touch a newer revision or a finished job.
    if (event.revision !== state.revision || isFinal(state.status)) return;
    const before = { ...state };
    state.check_in = event.message;
    state.check_in_at = event.at;
    // A job that checks in has started, even if its Running report is still on its way; moveTo
    // publishes the check-in along with the status, and its hook is Harbor's Running, before it.
    const started = state.status !== JobStatus.Running && this.moveTo(JobStatus.Running, before);
    if (!started) {
      state.update_time = nowSec();
      this.publish(false);
    }
    this.outbox?.push(hookEvent(toStats(this.input, state), event.message));
  }

  /**
   * A check-in the run carried back as it ended (made after a stop, by a short job, past the
   * history's share of updates, or whose update got no answer). Harbor posts every check-in, and
   * core acts on the hook's check_in (a retention's summary): with a status hook it goes out after a
   * Running, as any check-in. The status change that follows publishes the state.
   */
  takeCheckIn(carried: CarriedCheckIn | undefined): void {
    const { state } = this;
    if (!carried || isFinal(state.status) || (state.check_in_at !== undefined && carried.at < state.check_in_at)) return;
    const unseen = carried.message !== state.check_in || carried.at !== state.check_in_at;
    const before = { ...state };
    state.check_in = carried.message;
    state.check_in_at = carried.at;
    if (unseen && this.outbox && patched(CARRIED_CHECK_INS_GO_OUT)) {
      if (state.status !== JobStatus.Running) this.moveTo(JobStatus.Running, before);
      this.outbox.push(hookEvent(toStats(this.input, state), carried.message));
    }
  }

  /** A sub job is a job of its own (a child workflow) that outlives its parent's end. */
  async launchSubJob(request: LaunchJobRequest): Promise<string> {
    // uuid4() is deterministic in a workflow; its hex digits give a Harbor-form id.
    const child = childJobInput(this.input, request, uuid4().replace(/-/g, '').slice(0, 24), nowSec());
    const { workflowId, args, memo, typedSearchAttributes, staticSummary } = jobStartOptions(child);
    await startChild(GenericJob, {
      workflowId,
      args,
      memo,
      typedSearchAttributes,
      // The Web UI's one line, as a submitted job's: "<NAME> job (Generic) of upstream job <id>".
      staticSummary,
      // Stop and cancel are passed on by finishWithOp, not by closing with the parent.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    this.recordSubJob(child.id);
    return child.id;
  }

  /** Whether the job waits before its first run (a Scheduled job with its time). */
  get waitsUntilDue(): boolean {
    return this.state.status === JobStatus.Scheduled && this.state.run_at !== undefined;
  }

  /** A Scheduled job waits inside the workflow (not with startDelay), so it stays readable and stoppable. */
  async waitUntilDue(): Promise<void> {
    const { run_at } = this.state;
    if (!this.waitsUntilDue || run_at === undefined) return;
    await condition(() => this.op !== undefined, Math.max(0, run_at * 1000 - Date.now()));
  }

  /** Started on the job's behalf (a sub job or a fan-out target): stop and cancel reach it through finishWithOp. */
  recordSubJob(id: string): void {
    const ids = (this.state.sub_jobs ??= []);
    ids.push(id);
    // Past the memo's share of ids, a launch changes nothing the memo shows (replay: as before).
    if (!this.input.fanOut && !this.subJobsCapped) this.subJobsCapped = patched(SUB_JOBS_MEMO_CAPPED);
    if (!this.subJobsCapped || ids.length <= SUB_JOBS_IN_MEMO + 1) this.publish(false);
    // A child whose start was under way when the stop was passed on gets it now.
    if (this.opPassedOn) signalLateSubJob(id, this.opPassedOn);
  }

  /** Counts a failed run; true when the job's retry policy allows another. */
  recordFailure(message: string, final = false): boolean {
    const { state, input } = this;
    state.fails += 1;
    state.last_error = redactText(message);
    if (final && patched('invalid-parameters-end-the-job')) return false;
    return input.retry.shouldRetry && state.fails < input.retry.maxFails && this.op === undefined;
  }

  /** Harbor's reset on retry: a new revision that starts over at Pending, after the backoff. */
  async newRevision(): Promise<void> {
    const { state } = this;
    state.revision = Math.max(nowSec(), state.revision + 1);
    state.status = JobStatus.Pending;
    state.update_time = nowSec();
    delete state.check_in;
    delete state.check_in_at;
    this.pendingSinceMs = Date.now();
    this.handedOverPlaceMs = undefined;
    this.publish(true);
    await condition(() => this.op !== undefined, retryDelayMs(this.input.retry, state.fails));
  }

  async finishWithOp(command: OpCommand): Promise<void> {
    // A slot a hand-over kept for this run, which a stop ends before it ran.
    if (this.execution.slot.handedOver) await this.execution.slot.release();
    this.moveTo(command === OpCommand.Cancel ? JobStatus.Cancelled : JobStatus.Stopped);
    await this.passOpOn(command);
  }

  /**
   * Stop or cancel of a job reaches its sub jobs; one that already ended ignores it. A fan-out job
   * passes it on at once and to all children together, so their work stops while the job winds down.
   */
  async passOpOn(command: OpCommand): Promise<void> {
    if (this.opPassedOn) return;
    this.opPassedOn = command;
    const send = (id: string) => signalSubJob(id, command);
    if (this.input.fanOut) await Promise.all((this.state.sub_jobs ?? []).map(send));
    else for (const id of this.state.sub_jobs ?? []) await send(id);
  }

  /** One run of the job's code: its activity, or for a fan-out job its plan and then its child jobs. */
  runOnce(): Promise<RunOutcome> {
    return this.execution.runOnce();
  }

  /** See RunExecution.settleCancelledRun: a workflow cancel while a run was in its scope. */
  settleCancelledRun(): Promise<void> {
    return this.execution.settleCancelledRun();
  }

  /** Where the run stands in its type's queue (epoch ms): when it became pending, or the place it took over. */
  get queuePlaceMs(): number {
    return this.handedOverPlaceMs ?? this.pendingSinceMs;
  }

  /** The run's place or slot at its type's queue (a fan-out's hand-over keeps it for the next run). */
  get slot(): RunSlot {
    return this.execution.slot;
  }

  /** The queue's answer: only the run's current ticket counts. */
  slotGranted(ticket: string): void {
    this.execution.slot.granted(ticket);
  }

  /** Whether a run was abandoned after a stop and may still hold a worker slot. */
  get hasAbandonedRun(): boolean {
    return this.execution.hasAbandonedRun;
  }

  /**
   * See RunExecution.outliveAbandonedRun: the workflow stays open while an abandoned run still works.
   * An abandoned fan-out records its targets' results as they end, after the Stopped memo went out.
   */
  async outliveAbandonedRun(options: { cancelled?: boolean } = {}): Promise<void> {
    await this.execution.outliveAbandonedRun(options);
    if (this.input.fanOut && this.execution.abandonedRunEnded && patched(LATE_TARGETS_PUBLISHED)) this.publish(false);
  }

  /** Whether the ending has anything to do: most jobs have no hooks, no history limits and no batch reports. */
  get hasWrapUp(): boolean {
    return hasWrapUp(this);
  }

  /** What every ending does once the status is final (run-ending.ts); once, even if called again after a cancel. */
  async wrapUp({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    if (this.wrappedUp) return;
    await wrapUp(this, this.activities.housekeeping, drain);
    this.wrappedUp = true;
  }

  /** The workflow's result: the state, or a JobError failure so the Web UI shows the job failed. */
  result(): JobState {
    const { state, input } = this;
    if (state.status !== JobStatus.Error) return state;
    throw ApplicationFailure.create({
      type: FailureType.JobError,
      message: `job ${input.name} failed after ${state.fails} run(s): ${state.last_error ?? 'unknown error'}`,
      nonRetryable: true,
      details: [state],
    });
  }

  private publish(statusChanged: boolean): void {
    upsertMemo({ [MEMO_STATE]: memoState(this.state, this.input.fanOut === true, this.subJobsCapped) });
    if (statusChanged) upsertSearchAttributes([{ key: JobStatusKey, value: this.state.status }]);
  }
}
