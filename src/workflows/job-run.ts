import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedCheckIn, ExecuteJobInput, ExecuteJobResult, JobActivities, RunAdmission } from '../activities/types.js';
import { FailureType, JOB_RUN_FAILURES } from '../shared/failures.js';
import { DEFAULT_HOOK_TIMINGS, hookEvent, type HookTimings } from '../shared/hook-event.js';
import { childJobInput, jobStartOptions } from '../shared/job-start.js';
import {
  initialState,
  isFinal,
  JobKind,
  JobStatus,
  MEMO_PAUSED_SCHEDULE,
  MEMO_STATE,
  OpCommand,
  statusCode,
  toStats,
  type JobInput,
  type JobState,
} from '../shared/job-model.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { housekeepingQueue, queueingQueue } from '../shared/task-queues.js';
import { queueWorkflowId } from '../shared/job-queue.js';
import { TIMING_DEFAULTS } from '../shared/start-input.js';
import { executionAlias } from '../shared/job-id.js';
import { redactText } from '../shared/redact.js';
import { releaseSlotSignal } from './queue-messages.js';
import { nowSec } from '../shared/time.js';
import { retryDelayMs } from '../shared/backoff.js';
import type { FanOutPlan } from '../shared/fan-out.js';
import { runFanOut } from './fan-out.js';
import { limitsKeepingStreak } from '../schedules/history-limits.js';
import { handOverHooks } from './hook-delivery-workflow.js';
import { HookOutbox, type HookProgress, type HookRecord, type PendingHook } from './hook-outbox.js';
// A cycle (job-workflow imports this module), resolved by the time a sub job is launched.
import { GenericJob } from './job-workflow.js';
import { cancelSignal, stopSignal, type CheckInEvent, type LaunchJobRequest } from './job-messages.js';
import type { RunAttempt, RunOutcome } from './run-outcome.js';

/**
 * One job's state and the moves it can make. Status lives here and only moves forward within a
 * revision; every change is mirrored into the memo and the `JobStatus` search attribute so the API
 * can read a job without a worker (describe/visibility) and operators can filter in the Web UI.
 */
export class JobRun {
  readonly state: JobState;
  /** The stop or cancel asked of the job, first one wins. */
  op: OpCommand | undefined;
  readonly outbox: HookOutbox | undefined;
  private readonly hookTimings: HookTimings;
  private readonly executeJob: JobActivities['executeJob'];
  private readonly housekeeping: Pick<JobActivities, 'pruneExecutions' | 'pruneBatchExecutions' | 'checkScheduleHealth'>;
  private readonly queueing: Pick<JobActivities, 'enterQueue'>;
  private readonly queueingToTheEnd: Pick<JobActivities, 'enterQueue'>;
  /** The run's place at its type's queue, while it waits for or holds a slot. */
  private slot: { ticket: string; granted: boolean; grantedAtMs?: number } | undefined;
  private tickets = 0;
  /**
   * When the current run became pending (epoch ms): its place in its queue's line and what a queue
   * stop compares with. The run's start event as the server recorded it (`startTime`, submit order
   * whichever worker takes the first task; `runStartTime` is that first task's time), or when it
   * became due, or when a retry began.
   */
  private pendingSinceMs: number;
  /** A batch job's report history, known once it has planned. */
  private reportHistory: number | undefined;
  /** The op already passed on to sub jobs, if any. */
  private opPassedOn: OpCommand | undefined;

  constructor(readonly input: JobInput) {
    const { resume } = input;
    this.state = resume ? { ...resume.state } : initialState(input);
    this.pendingSinceMs = Math.max(workflowInfo().startTime.getTime(), (this.state.run_at ?? 0) * 1000);
    this.hookTimings = input.timings.hooks ?? DEFAULT_HOOK_TIMINGS;
    this.outbox = input.statusHook
      ? new HookOutbox(
          input.statusHook,
          this.hookTimings,
          resume?.hooks?.events as PendingHook[] | undefined,
          resume?.hooks?.progress as HookProgress | undefined,
          `${input.id}.${this.state.revision}`,
          input.timings.historyBudgetBytes ?? TIMING_DEFAULTS.historyBudgetBytes,
        )
      : undefined;
    if (resume?.hooks?.log) this.outbox?.restoreLog(resume.hooks.log as HookRecord[]);
    this.executeJob =
      input.shortCapMs !== undefined
        ? proxyLocalActivities<JobActivities>({
            startToCloseTimeout: input.shortCapMs,
            // One attempt: a failure or an overrun ends the run and the job's own retry policy decides
            // (with its backoff, as a workflow timer). Retrying inside the workflow task would hold the
            // task open past its timeout. A lost worker's run is re-run with the workflow task.
            retry: { maximumAttempts: 1 },
            cancellationType: 'WAIT_CANCELLATION_COMPLETED',
          }).executeJob
        : this.taskActivity(input);
    this.housekeeping = proxyActivities<JobActivities>({
      taskQueue: housekeepingQueue(workflowInfo().taskQueue),
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 3 },
    });
    // Getting in line must not fail the job: Temporal retries it until the server answers.
    const queueing = {
      taskQueue: queueingQueue(workflowInfo().taskQueue),
      startToCloseTimeout: '30 seconds',
      retry: { maximumInterval: '10 seconds' },
    } as const;
    this.queueing = proxyActivities<JobActivities>(queueing);
    // A stop while the run gets in line waits until it is in: its release then comes after it and
    // takes the place back, where it could otherwise land first and leave a stale place behind.
    this.queueingToTheEnd = proxyActivities<JobActivities>({ ...queueing, cancellationType: 'WAIT_CANCELLATION_COMPLETED' });
  }

  /** A job's run as an activity task of its own: heartbeats, any length up to max_run_hours. */
  private taskActivity(input: JobInput): JobActivities['executeJob'] {
    return proxyActivities<JobActivities>({
      startToCloseTimeout: input.timings.maxRunMs,
      heartbeatTimeout: input.timings.heartbeatTimeoutMs,
      // Wait for the job to acknowledge a stop, bounded by the grace period in runOnce.
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      // A lost worker or a missed heartbeat is retried by Temporal without limit; a failure of the
      // job itself ends the run and the workflow applies the job's own retry policy. So does a run
      // past max_run_hours (Temporal's own name for that timeout): retried by Temporal, it would
      // start again from the beginning, past the cap again, forever.
      retry: {
        initialInterval: '1s',
        maximumInterval: '10s',
        nonRetryableErrorTypes: [...JOB_RUN_FAILURES, 'TemporalTimeout:StartToClose'],
      },
    }).executeJob;
  }

  /** A failed run's outcome; one whose parameters fail the job's schema is final: a retry would fail alike. */
  private failedRun(err: unknown): RunOutcome {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    const final = cause instanceof ApplicationFailure && cause.type === FailureType.InvalidParameters;
    return { kind: 'failed', message: this.failureMessage(err), ...(final ? { final } : {}) };
  }

  private failureMessage(err: unknown): string {
    const cap = this.input.shortCapMs;
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
      if (cap !== undefined) return `the run overran its ${cap} ms cap as a short job`;
      if (err.cause.timeoutType === 'START_TO_CLOSE') {
        return `the run overran job.max_run_hours (${Number((this.input.timings.maxRunMs / 3_600_000).toPrecision(4))} h)`;
      }
    }
    return failureMessage(err);
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

  moveTo(next: JobStatus): boolean {
    const { state } = this;
    if (isFinal(state.status)) return false;
    if (statusCode(next) < statusCode(state.status)) return false;
    if (next === state.status) return true;
    state.status = next;
    state.update_time = nowSec();
    this.publish(true);
    // Harbor fires no hook for Pending or Scheduled (creation, a retry's reset).
    if (next !== JobStatus.Pending && next !== JobStatus.Scheduled) this.outbox?.push(hookEvent(toStats(this.input, state)));
    return true;
  }

  checkIn(event: CheckInEvent): void {
    const { state } = this;
    // A late check-in from an abandoned run must not touch a newer revision or a finished job.
    if (event.revision !== state.revision || isFinal(state.status)) return;
    state.check_in = event.message;
    state.check_in_at = event.at;
    // A job that checks in has started, even if its Running report is still on its way;
    // moveTo publishes the check-in along with the status.
    const started = state.status !== JobStatus.Running && this.moveTo(JobStatus.Running);
    if (!started) {
      state.update_time = nowSec();
      this.publish(false);
    }
    this.outbox?.push(hookEvent(toStats(this.input, state), event.message));
  }

  /**
   * A check-in the run carried in its heartbeats, handed back as the run ended: recorded without a
   * publish of its own, the status change that follows publishes it.
   */
  private takeCheckIn(carried: CarriedCheckIn | undefined): void {
    const { state } = this;
    if (!carried || isFinal(state.status) || (state.check_in_at !== undefined && carried.at < state.check_in_at)) return;
    state.check_in = carried.message;
    state.check_in_at = carried.at;
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

  /** A run that ignored a stop past the grace period: it still holds a worker slot until it returns. */
  private abandoned: (() => boolean) | undefined;

  /** Whether the run started by runInScope has returned (its queue slot given back on the way out). */
  private inScopeSettled: (() => boolean) | undefined;

  /**
   * The workflow itself was cancelled (Web UI, CLI) while a run was in its scope: that scope is
   * cancelled with it, and the workflow would close before the run's way out gives its queue slot
   * back, holding the type's limit until the queue's next probe. The run gets the stop grace period
   * to return, and its slot goes back regardless, as for a stop.
   */
  async settleCancelledRun(): Promise<void> {
    if (!patched('cancelled-run-gives-its-slot-back')) return;
    const settled = this.inScopeSettled;
    if (settled && !settled()) {
      await condition(settled, this.input.timings.stopGraceMs);
      // A run that ignored the cancel is abandoned, as after a stop: the job is Cancelled and the
      // workflow stays open until the run returns, so a retry meanwhile is refused rather than
      // running the job a second time beside it.
      if (!settled() && patched('cancelled-abandoned-run-keeps-the-workflow-open')) this.abandoned = settled;
    }
    if (this.slot) await this.releaseSlot();
  }

  /** One run of the job's code: its activity, or for a fan-out job its plan and then its child jobs. */
  runOnce(): Promise<RunOutcome> {
    return this.runsShortAlone ? this.runShortOnce() : this.runInScope(false);
  }

  /**
   * A short run (a local activity) of a job without a fan-out or a limit: every NOOP and
   * notification. Nothing can interrupt it, so it needs no scope of its own: the workflow task it
   * holds sees no signal until the run has returned (a signal that arrives meanwhile fails the task
   * that would complete the job, and the retried task meets the stop first, before the run), and a
   * workflow cancel reaches it through the root scope. A stop that is there when it returns wins,
   * as in runInScope. The SDK captures a stack trace for every promise a workflow makes (~50 µs
   * each here) and any CancellationScope.run turns on async hooks for the whole worker thread: this
   * path makes neither, where runInScope makes 15 promises.
   */
  private runShortOnce(): Promise<RunOutcome> {
    return this.executeJob(this.runArgs(undefined, this.admission(false))).then(
      (result): RunOutcome | Promise<RunOutcome> => {
        const attempt = this.attemptOf(result);
        if (this.op !== undefined) return { kind: 'op', op: this.op };
        // A type paused since the submit: the run waits for a slot as any queued run does.
        return attempt.kind === 'queued' ? this.runInScope(true) : attempt;
      },
      (err: unknown): RunOutcome => {
        this.takeCheckIn(carriedCheckIn(err));
        // The workflow itself cancelled (Web UI, CLI): the job's cancel takes over.
        if (isCancellation(err)) throw err;
        if (this.op !== undefined) return { kind: 'op', op: this.op };
        return this.failedRun(err);
      },
    );
  }

  /** Whether runOnce takes the short path: a short run, no fan-out, no limit (its slot wait has moves of its own). */
  private get runsShortAlone(): boolean {
    const { shortCapMs, fanOut, concurrency } = this.input;
    return shortCapMs !== undefined && !fanOut && concurrency === undefined;
  }

  /** `afterQueued`: the run's first attempt found its queue paused, so it waits for a slot first. */
  private async runInScope(afterQueued: boolean): Promise<RunOutcome> {
    let settled: RunOutcome | undefined;
    const scope = new CancellationScope();
    void scope
      .run(() =>
        this.admitted(
          (admission) => (this.input.fanOut ? this.fanOutOnce(admission) : this.executeOnce(undefined, admission)),
          afterQueued,
        ),
      )
      .then(
        (outcome) => {
          settled = outcome;
        },
        (err: unknown) => {
          settled = this.failedRun(err);
        },
      );
    this.inScopeSettled = () => settled !== undefined;
    await condition(() => settled !== undefined || this.op !== undefined);
    if (settled !== undefined) return settled;
    scope.cancel();
    if (this.input.fanOut) await this.passOpOn(this.op!);
    // A job that ignores the stop is abandoned after the grace period; its late result is ignored.
    await condition(() => settled !== undefined, this.input.timings.stopGraceMs);
    // An abandoned run gives its queue slot back now; its worker slot stays taken until it returns.
    if (this.slot) await this.releaseSlot();
    if (settled === undefined) this.abandoned = () => settled !== undefined;
    return { kind: 'op', op: this.op ?? OpCommand.Stop };
  }

  private admission(granted: boolean): RunAdmission {
    const grantedAtMs = granted ? this.slot?.grantedAtMs : undefined;
    return {
      taskQueue: workflowInfo().taskQueue,
      pendingSinceMs: this.pendingSinceMs,
      granted,
      ...(grantedAtMs !== undefined ? { grantedAtMs } : {}),
      firstRun: this.state.fails === 0,
    };
  }

  /**
   * A run starts only when its type's queue lets it: a type with a limit waits for a slot; any
   * other run is checked as its activity starts and waits for a slot only if the queue is paused.
   * A pause holds back a run that has its slot but has not started (its activity still waits for a
   * worker): it gets back in line, at its place, until a grant comes after the pause.
   */
  private async admitted(run: (admission: RunAdmission) => Promise<RunAttempt>, afterQueued = false): Promise<RunOutcome> {
    const { pendingSinceMs } = this;
    try {
      if (this.input.concurrency !== undefined) await this.waitForSlot(pendingSinceMs);
      let outcome = afterQueued ? { kind: 'queued' as const } : await run(this.admission(this.slot !== undefined));
      while (outcome.kind === 'queued') {
        await this.waitForSlot(pendingSinceMs);
        outcome = await run(this.admission(true));
      }
      return outcome;
    } finally {
      if (this.slot) await this.releaseSlot();
    }
  }

  private async waitForSlot(at: number): Promise<void> {
    const { input } = this;
    const ticket = `${this.state.revision}.${++this.tickets}`;
    this.slot = { ticket, granted: false };
    const toTheEnd = patched('enter-queue-to-the-end');
    const queueing = toTheEnd ? this.queueingToTheEnd : this.queueing;
    try {
      await queueing.enterQueue({
        taskQueue: workflowInfo().taskQueue,
        jobType: input.name,
        jobId: input.id,
        ticket,
        at,
        ...(input.concurrency !== undefined ? { limit: input.concurrency } : {}),
      });
    } finally {
      // A stop that outlasted the grace period gave the ticket back while it was still getting in
      // line: now that its place has landed (or never will), give it back again.
      if (toTheEnd && this.slot?.ticket !== ticket) await this.releaseTicket(ticket);
    }
    await condition(() => this.slot?.granted === true);
  }

  /** The queue's answer: only the run's current ticket counts. */
  slotGranted(ticket: string): void {
    if (this.slot?.ticket === ticket && !this.slot.granted) {
      this.slot.granted = true;
      this.slot.grantedAtMs = Date.now();
    }
  }

  /** Gives back the slot (or the place in line); never cancelled with the run, so a stop frees it too. */
  private async releaseSlot(): Promise<void> {
    const slot = this.slot;
    if (!slot) return;
    this.slot = undefined;
    await this.releaseTicket(slot.ticket);
  }

  /** Releases are per ticket, so giving one back twice is harmless. */
  private async releaseTicket(ticket: string): Promise<void> {
    const queueId = queueWorkflowId(workflowInfo().taskQueue, this.input.name);
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(queueId)
        .signal(releaseSlotSignal, { jobId: this.input.id, ticket })
        .catch(() => undefined),
    );
  }

  private async executeOnce(mode?: 'plan', admission?: RunAdmission): Promise<RunAttempt & { plan?: FanOutPlan }> {
    let result: ExecuteJobResult;
    try {
      result = await this.executeJob(this.runArgs(mode, admission));
    } catch (err) {
      this.takeCheckIn(carriedCheckIn(err));
      throw err;
    }
    return this.attemptOf(result);
  }

  private runArgs(mode: 'plan' | undefined, admission: RunAdmission | undefined): ExecuteJobInput {
    const { input, state } = this;
    return {
      id: input.id,
      name: input.name,
      parameters: input.parameters,
      revision: state.revision,
      upstreamJobId: input.upstreamJobId,
      ...(mode ? { mode } : {}),
      ...(mode === 'plan' && patched('compact-fan-out-plans') ? { compactTargets: true as const } : {}),
      ...(admission ? { admission } : {}),
      // Without a status hook no one waits on each check-in: they ride on heartbeats.
      ...(input.statusHook ? {} : { checkIns: 'heartbeat' as const }),
    };
  }

  /** What a run's result means for the job; a check-in it carried back is recorded on the way. */
  private attemptOf(result: ExecuteJobResult): RunAttempt & { plan?: FanOutPlan } {
    this.takeCheckIn(result.checkIn);
    if (result.outcome === 'queued') return { kind: 'queued' };
    if (result.outcome !== 'done') return { kind: 'op', op: result.outcome };
    return result.plan ? { kind: 'done', plan: result.plan } : { kind: 'done' };
  }

  private async fanOutOnce(admission: RunAdmission): Promise<RunAttempt> {
    const planned = await this.executeOnce('plan', admission);
    if (planned.kind !== 'done' || !planned.plan) {
      return planned.kind === 'done' ? { kind: 'failed', message: 'the job planned nothing' } : planned;
    }
    this.reportHistory = planned.plan.reportHistory;
    return runFanOut(this, planned.plan);
  }

  /** Started on the job's behalf (a sub job or a fan-out target): stop and cancel reach it through finishWithOp. */
  recordSubJob(id: string): void {
    this.state.sub_jobs = [...(this.state.sub_jobs ?? []), id];
    this.publish(false);
    // A child whose start was under way when the stop was passed on gets it now.
    if (this.opPassedOn) {
      void getExternalWorkflowHandle(id)
        .signal(this.opPassedOn === OpCommand.Cancel ? cancelSignal : stopSignal)
        .catch(() => undefined);
    }
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
    delete state.run_at;
    this.pendingSinceMs = Date.now();
    this.publish(true);
    await condition(() => this.op !== undefined, retryDelayMs(this.input.retry, state.fails));
  }

  async finishWithOp(command: OpCommand): Promise<void> {
    this.moveTo(command === OpCommand.Cancel ? JobStatus.Cancelled : JobStatus.Stopped);
    await this.passOpOn(command);
  }

  /**
   * Stop or cancel of a job reaches its sub jobs; one that already ended ignores it. A fan-out job
   * passes it on at once and to all children together, so their work stops while the job winds down.
   */
  private async passOpOn(command: OpCommand): Promise<void> {
    if (this.opPassedOn) return;
    this.opPassedOn = command;
    const send = (id: string) =>
      getExternalWorkflowHandle(id)
        .signal(command === OpCommand.Cancel ? cancelSignal : stopSignal)
        .catch(() => undefined);
    if (this.input.fanOut) await Promise.all((this.state.sub_jobs ?? []).map(send));
    else for (const id of this.state.sub_jobs ?? []) await send(id);
  }

  /** Whether the ending has anything to do: most jobs have no hooks, no history limits and no batch reports. */
  get hasWrapUp(): boolean {
    return this.outbox !== undefined || this.prunesHistory || this.checksScheduleHealth || this.reportHistory !== undefined;
  }

  /** Set once wrapUp has run to its end, so a second call (after a cancel) does nothing twice. */
  private wrappedUp = false;

  /**
   * What every ending does once the status is final: hooks handed on, history pruned. Without
   * `drain`, hooks still undelivered are handed on at once (the workflow was cancelled meanwhile,
   * so its own deliveries have stopped).
   */
  async wrapUp({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    if (this.wrappedUp) return;
    const timings = drain ? this.hookTimings : { ...this.hookTimings, drainMs: 0 };
    if (this.outbox) await handOverHooks(this.outbox, timings, this.input, this.state.revision);
    if (this.prunesHistory) await this.pruneHistory();
    if (this.checksScheduleHealth) await this.checkScheduleHealth();
    if (this.reportHistory !== undefined) {
      // Housekeeping must never change how the job ended.
      await this.housekeeping
        .pruneBatchExecutions({
          name: this.input.name,
          selfId: this.input.id,
          keep: this.reportHistory,
          taskQueue: workflowInfo().taskQueue,
          ...(this.input.upstreamJobId ? { upstreamJobId: this.input.upstreamJobId } : {}),
        })
        .catch(() => undefined);
    }
    this.wrappedUp = true;
  }

  /** Whether a run was abandoned after a stop and may still hold a worker slot. */
  get hasAbandonedRun(): boolean {
    return this.abandoned !== undefined;
  }

  /**
   * The job's status is final, but a run that ignored its stop still occupies a worker: the
   * workflow stays open until that run returns (or its worker is lost), so Temporal shows the
   * activity on that worker and `/stats` counts it. Histories from before this wait replay as they were.
   */
  async outliveAbandonedRun({ cancelled = false } = {}): Promise<void> {
    const abandoned = this.abandoned;
    if (!abandoned || !patched('abandoned-runs-keep-the-workflow-open')) return;
    // An execution of a periodic job under Replace is cancelled by its schedule, which starts the
    // next only once this workflow has closed: a run that ignores the cancel would hold back every
    // fire until it returned. It is abandoned as any, and the workflow closes after the grace.
    if (cancelled && this.input.abandonOnCancel && patched('replace-does-not-wait-for-an-abandoned-run')) return;
    await condition(abandoned);
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
    // Every upsert records the whole memo in history: a fan-out job's per-target lists go in once
    // it has ended (the stats query has them live), or a run of n targets would record O(n²).
    const { results, sub_jobs, ...small } = this.state;
    const whole = !this.input.fanOut || isFinal(this.state.status);
    upsertMemo({
      [MEMO_STATE]: whole ? { ...this.state } : { ...small, ...(results ? { results: {} } : {}), ...(sub_jobs ? { sub_jobs: [] } : {}) },
    });
    if (statusChanged) upsertSearchAttributes([{ key: JobStatusKey, value: this.state.status }]);
  }

  private get checksScheduleHealth(): boolean {
    const { input, state } = this;
    return input.upstreamJobId !== undefined && input.pauseAfterFailures !== undefined && state.status === JobStatus.Error;
  }

  /** A failed execution of a periodic job with `pause_after_failures` counts its streak; at the limit the schedule pauses. */
  private async checkScheduleHealth(): Promise<void> {
    const { input, state } = this;
    // wrapUp calls this only when checksScheduleHealth holds; the test narrows the types.
    if (!input.upstreamJobId || input.pauseAfterFailures === undefined) return;
    // Housekeeping must never change how the job ended.
    const health = await this.housekeeping
      .checkScheduleHealth({
        scheduleId: input.upstreamJobId,
        jobName: input.name,
        executionId: executionAlias(input.id) ?? input.id,
        ...(state.last_error !== undefined ? { lastError: state.last_error } : {}),
        pauseAfter: input.pauseAfterFailures,
      })
      .catch(() => undefined);
    // The streak that paused the schedule ends here: once resumed, the job gets as many failures again.
    if (health?.paused && patched('failure-pause-ends-the-streak')) upsertMemo({ [MEMO_PAUSED_SCHEDULE]: true });
  }

  private get prunesHistory(): boolean {
    const { input } = this;
    return input.upstreamJobId !== undefined && input.historyLimits !== undefined && input.kind === JobKind.Scheduled;
  }

  /** A periodic job's execution, as it ends, deletes the executions beyond the job's history limits. */
  private async pruneHistory(): Promise<void> {
    const { input, state } = this;
    // wrapUp calls this only when prunesHistory holds; the test narrows the types.
    if (!input.upstreamJobId || !input.historyLimits) return;
    const self = { id: input.id, startedAt: workflowInfo().startTime.getTime(), succeeded: state.status === JobStatus.Success };
    // Housekeeping must never change how the job ended.
    await this.housekeeping
      .pruneExecutions({
        upstreamJobId: input.upstreamJobId,
        self,
        limits: limitsKeepingStreak(input.historyLimits, input.pauseAfterFailures),
      })
      .catch(() => undefined);
  }
}

/** The check-in a failed run carried in its heartbeats (the failure's details). */
function carriedCheckIn(err: unknown): CarriedCheckIn | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? cause.details : undefined;
  const first = details?.[0] as { checkIn?: CarriedCheckIn } | undefined;
  return first?.checkIn;
}

/** Why a run failed, for `last_error`. */
function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
