import { CancellationScope, condition, isCancellation, patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { ExecuteJobInput, ExecuteJobResult, RunAdmission } from '../activities/types.js';
import { OpCommand } from '../shared/job-model.js';
import type { FanOutPlan } from '../shared/fan-out.js';
import { runFanOut } from './fan-out.js';
import type { JobRun } from './job-run.js';
import { carriedCheckIn, failedRun, type RunActivities } from './run-activities.js';
import { postRunningIfUnreported } from './run-hooks.js';
import type { RunAttempt, RunOutcome } from './run-outcome.js';
import { RunSlot } from './run-slot.js';

/** A short run with a status hook meets a stop that came while it ran before it ends the job (patch id). */
const SHORT_RUN_MEETS_STOP = 'short-run-meets-stop-before-its-end';

/** A fan-out's hand-over keeps the run's queue slot for the next run (patch id). */
const KEEP_SLOT_AT_HAND_OVER = 'fan-out-keeps-its-queue-slot-at-hand-over';

/**
 * How one run of a job goes: its activity (a local one for a short job), its place at its type's
 * queue, a stop's grace period, and a run that ignored a stop or a cancel (abandoned).
 */
export class RunExecution {
  readonly slot: RunSlot;
  /** A run that ignored a stop past the grace period: it still holds a worker slot until it returns. */
  private abandoned: (() => boolean) | undefined;
  /** Whether the run started by runInScope has returned (its queue slot given back on the way out). */
  private inScopeSettled: (() => boolean) | undefined;

  constructor(
    private readonly run: JobRun,
    private readonly activities: RunActivities,
  ) {
    this.slot = new RunSlot(run.input, activities, run.keptSlot);
  }

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
      // As a stop does (runInScope): a fan-out's child jobs hear the cancel now, not once the grace
      // has passed (a RETENTION job's repositories went on deleting meanwhile).
      const { run } = this;
      if (run.input.fanOut && run.op !== undefined && patched('cancel-reaches-fan-out-children-at-once')) await run.passOpOn(run.op);
      await condition(settled, this.run.input.timings.stopGraceMs);
      // A run that ignored the cancel is abandoned, as after a stop: the job is Cancelled and the
      // workflow stays open until the run returns, so a retry meanwhile is refused rather than
      // running the job a second time beside it.
      if (!settled() && patched('cancelled-abandoned-run-keeps-the-workflow-open')) this.abandoned = settled;
    }
    if (this.slot.held) await this.slot.release();
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
    const { run } = this;
    return this.activities.executeJob(this.runArgs(undefined, this.admission(false))).then(
      (result): RunOutcome | Promise<RunOutcome> => {
        const attempt = this.attemptOf(result);
        if (run.op !== undefined) return { kind: 'op', op: run.op };
        // A type paused since the submit: the run waits for a slot as any queued run does.
        if (attempt.kind === 'queued') return this.runInScope(true);
        // With a status hook the task holding the run does not end the job (it sends the hooks
        // first), so the server takes it even with a stop waiting: the job would end Success and
        // the stop, seen next, would find it final. A timer ends this task first; a stop that came
        // while the run ran is seen before it fires.
        if (run.input.statusHook && patched(SHORT_RUN_MEETS_STOP))
          return sleep(1).then(() => (run.op !== undefined ? { kind: 'op', op: run.op } : attempt));
        return attempt;
      },
      (err: unknown): RunOutcome => {
        run.takeCheckIn(carriedCheckIn(err));
        // The workflow itself cancelled (Web UI, CLI): the job's cancel takes over.
        if (isCancellation(err)) throw err;
        if (run.op !== undefined) return { kind: 'op', op: run.op };
        return failedRun(run.input, err);
      },
    );
  }

  /** Whether runOnce takes the short path: a short run, no fan-out, no limit (its slot wait has moves of its own). */
  private get runsShortAlone(): boolean {
    const { shortCapMs, fanOut, concurrency } = this.run.input;
    return shortCapMs !== undefined && !fanOut && concurrency === undefined;
  }

  /** `afterQueued`: the run's first attempt found its queue paused, so it waits for a slot first. */
  private async runInScope(afterQueued: boolean): Promise<RunOutcome> {
    const { run } = this;
    let settled: RunOutcome | undefined;
    const scope = new CancellationScope();
    void scope
      .run(() =>
        this.admitted((admission) => (run.input.fanOut ? this.fanOutOnce(admission) : this.executeOnce(undefined, admission)), afterQueued),
      )
      .then(
        (outcome) => {
          settled = outcome;
        },
        (err: unknown) => {
          settled = failedRun(run.input, err);
        },
      );
    this.inScopeSettled = () => settled !== undefined;
    await condition(() => settled !== undefined || run.op !== undefined);
    if (settled !== undefined) return settled;
    scope.cancel();
    if (run.input.fanOut) await run.passOpOn(run.op!);
    // A job that ignores the stop is abandoned after the grace period; its late result is ignored.
    await condition(() => settled !== undefined, run.input.timings.stopGraceMs);
    // An abandoned run gives its queue slot back now; its worker slot stays taken until it returns.
    if (this.slot.held) await this.slot.release();
    if (settled === undefined) this.abandoned = () => settled !== undefined;
    return { kind: 'op', op: run.op ?? OpCommand.Stop };
  }

  /**
   * This run goes on from the job's previous one (continued as new, the input's resume), not a
   * reset's re-run of it (an operator's new run of the job, which gets in line as any).
   */
  private get continued(): boolean {
    const info = workflowInfo();
    const { resume } = this.run.input;
    // A retry after the hand-over (a new revision) is a run that has not started: it waits as any.
    return resume !== undefined && info.runId === info.originalExecutionRunId && resume.state.revision === this.run.state.revision;
  }

  private admission(granted: boolean): RunAdmission {
    const grantedAtMs = granted ? this.slot.grantedAtMs : undefined;
    return {
      taskQueue: workflowInfo().taskQueue,
      pendingSinceMs: this.run.pendingSinceMs,
      granted,
      ...(grantedAtMs !== undefined ? { grantedAtMs } : {}),
      firstRun: this.run.state.fails === 0,
      ...(this.continued ? { continued: true } : {}),
    };
  }

  /**
   * A run starts only when its type's queue lets it: a type with a limit waits for a slot; any
   * other run is checked as its activity starts and waits for a slot only if the queue is paused.
   * A pause holds back a run that has its slot but has not started (its activity still waits for a
   * worker): it gets back in line, at its place, until a grant comes after the pause.
   */
  private async admitted(run: (admission: RunAdmission) => Promise<RunAttempt>, afterQueued = false): Promise<RunOutcome> {
    const place = this.run.queuePlaceMs;
    let handOver = false;
    try {
      // A slot a hand-over kept for this run is used as it is.
      if (this.run.input.concurrency !== undefined && !this.slot.hasGrant) await this.slot.waitFor(place, this.run.state.revision);
      let outcome = afterQueued ? { kind: 'queued' as const } : await run(this.admission(this.slot.held));
      while (outcome.kind === 'queued') {
        await this.slot.waitFor(place, this.run.state.revision);
        outcome = await run(this.admission(true));
      }
      // A fan-out handing over to its next run keeps its slot for it (continueFanOutAsNew), where a
      // release would give it to a later run of the type in the middle of the job.
      handOver = outcome.kind === 'continue' && this.slot.held && patched(KEEP_SLOT_AT_HAND_OVER);
      return outcome;
    } finally {
      if (this.slot.held && !handOver) await this.slot.release();
    }
  }

  private async executeOnce(mode?: 'plan', admission?: RunAdmission): Promise<RunAttempt & { plan?: FanOutPlan }> {
    let result: ExecuteJobResult;
    try {
      result = await this.activities.executeJob(this.runArgs(mode, admission));
    } catch (err) {
      this.run.takeCheckIn(carriedCheckIn(err));
      throw err;
    }
    return this.attemptOf(result);
  }

  private runArgs(mode: 'plan' | undefined, admission: RunAdmission | undefined): ExecuteJobInput {
    const { input, state } = this.run;
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
      ...(input.shortCapMs !== undefined ? { scheduledAfterEvent: workflowInfo().historyLength } : {}),
    };
  }

  /** What a run's result means for the job; a check-in it carried back is recorded on the way. */
  private attemptOf(result: ExecuteJobResult): RunAttempt & { plan?: FanOutPlan } {
    this.run.takeCheckIn(result.checkIn);
    if (result.outcome === 'queued') return { kind: 'queued' };
    if (result.outcome !== 'done') {
      // Its code ran: Harbor posted Running before it (the stop's status follows).
      if (result.ran) postRunningIfUnreported(this.run);
      return { kind: 'op', op: result.outcome };
    }
    return result.plan ? { kind: 'done', plan: result.plan } : { kind: 'done' };
  }

  private async fanOutOnce(admission: RunAdmission): Promise<RunAttempt> {
    const planned = await this.executeOnce('plan', admission);
    if (planned.kind !== 'done' || !planned.plan) {
      return planned.kind === 'done' ? { kind: 'failed', message: 'the job planned nothing' } : planned;
    }
    this.run.reportHistory = planned.plan.reportHistory;
    return runFanOut(this.run, planned.plan);
  }

  /** Whether a run was abandoned after a stop and may still hold a worker slot. */
  get hasAbandonedRun(): boolean {
    return this.abandoned !== undefined;
  }

  /** Whether a run abandoned after a stop has since returned. */
  get abandonedRunEnded(): boolean {
    return this.abandoned?.() === true;
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
    if (cancelled && this.run.input.abandonOnCancel && patched('replace-does-not-wait-for-an-abandoned-run')) return;
    await condition(abandoned);
  }
}
