import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import type { JobContext, JobLogger } from '../jobs/job-context.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import type { JobLoggerFactory } from '../logs/job-loggers.js';
import { targetParameters, type FanOutPlan, type FanOutTarget } from '../shared/fan-out.js';
import { FailureType } from '../shared/failures.js';
import { OpCommand } from '../shared/job-model.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import { checkInUpdate, jobStartedUpdate, launchJobUpdate, opCommandQuery } from '../workflows/job-messages.js';
import { saveBatchFile } from '../jobs/batch/batch-files.js';
import { createCheckInCoalescer } from './checkin-coalescer.js';
import { abortableSleep } from '../process/abortable-sleep.js';
import { interruptedBeforeRetry } from './interrupted-before-retry.js';
import { fencedOut } from '../shared/job-queue.js';
import { maskSecrets, redactText, secretValues } from '../shared/redact.js';
import { StatusHookUrlSchema } from '../api/contract.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { NO_SEALING, UnsealError, type Sealer } from '../secrets/sealer.js';
import { executionAlias } from '../shared/job-id.js';
import type { GateReader } from '../queues/gate-reader.js';
import type { CarriedCheckIn, ExecuteJobInput, ExecuteJobResult, JobActivities, RunAdmission, RunHeartbeat } from './types.js';

export interface ActivityDeps {
  registry: JobRegistry;
  client: Client;
  loggers: JobLoggerFactory;
  properties: Readonly<Record<string, unknown>>;
  checkinMinIntervalMs: number;
  /** How often the run heartbeats, whether or not the job checks in. */
  heartbeatIntervalMs: number;
  /**
   * How long a run goes before it reports Running (a check-in reports it at once). A job done
   * sooner goes straight from Pending to its final status and saves a workflow task.
   */
  runningReportDelayMs: number;
  /** Harbor's task counters and run times, when the process serves metrics. */
  metrics?: JobMetrics;
  /** The FILE job logger's directory; report files go beside the logs. */
  logDir?: string;
  /** Reads a type's queue (pause, stop fence) as a run starts. */
  gates: GateReader;
  /** `job.stop_grace_seconds`: a run still going this long after a stop is abandoned by its workflow. */
  stopGraceMs?: number;
  /** `job.hook_secret`: hook POSTs are signed with it. */
  hookSecret?: string;
  /** `job.hook_allowed_hosts`. */
  hookAllowedHosts?: readonly string[];
  /** Opens the parameters sealed for Temporal's history, and seals a sub job's and a plan's (`job.sealing_keys`). */
  sealer?: Sealer;
}

/** Why a run is being interrupted: an op command, or the worker going away (then the run is retried elsewhere). */
/** `overrun`: the run went past its cap (a short job's, or job.max_run_hours), and its workflow has already failed it. */
type Interruption = OpCommand | 'shutdown' | 'overrun';

/** One run of a job: the job's code with its context, heartbeats, check-ins and stop/cancel. */
export function createExecuteJob(deps: ActivityDeps): JobActivities['executeJob'] {
  // A sub job's status hook goes where a submitted job's may (the API checks those).
  const hookAllowList = createHookAllowList(deps.hookAllowedHosts ?? []);
  return async function executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult> {
    const activity = Context.current();
    const info = activity.info;
    // Temporal's clock for the run's cap starts as the task comes: before the gate's read, before all.
    const begunAt = Date.now();
    const definition = deps.registry.get(input.name);
    if (!definition) {
      throw ApplicationFailure.nonRetryable(`no job named ${input.name} is registered on this worker`, FailureType.UnknownJob);
    }
    const sealer = deps.sealer ?? NO_SEALING;
    let parameters: Record<string, unknown>;
    try {
      parameters = sealer.unsealParameters(input.parameters);
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      // A worker without the key fails the run (the job's retries may reach one that has it).
      deps.metrics?.recordRun(input.name, 'fail', 0);
      throw ApplicationFailure.nonRetryable(err.message, FailureType.JobFailed);
    }
    const parsed = definition.params.safeParse(parameters);
    if (!parsed.success) {
      // A run, as Harbor counts one that fails on its parameters.
      deps.metrics?.recordRun(input.name, 'fail', 0);
      throw ApplicationFailure.nonRetryable(
        `parameters of ${input.name} are invalid: ${z.prettifyError(parsed.error)}`,
        FailureType.InvalidParameters,
      );
    }
    const handle = deps.client.workflow.getHandle(input.id, info.workflowExecution?.runId);
    // A run retried after its worker was lost: a stop given meanwhile may not have reached the
    // workflow yet, and must not let the job's code start again.
    if (info.attempt > 1 && !info.isLocal && info.workflowExecution) {
      const given = await interruptedBeforeRetry(deps.client, info.workflowExecution, info.activityId);
      if (given !== undefined) {
        const logger = deps.loggers.open(input.id);
        logger.info(`not started again: ${given} was given while the run's worker was lost`);
        await logger.close();
        return { outcome: given };
      }
    }
    if (input.admission) {
      const gate = await readGate(deps.gates, input.admission.taskQueue, input.name, activity);
      // Checked as the run starts, so a run waiting in the task queue's backlog obeys a pause or stop given meanwhile.
      if (fencedOut(gate, input.admission.pendingSinceMs)) {
        const fenced = deps.loggers.open(input.id);
        fenced.info(`not started: the ${input.name} queue was stopped while this run was pending`);
        await fenced.close();
        return { outcome: OpCommand.Stop };
      }
      // A pause holds back runs that have not started: a run back after its worker was lost (a
      // later attempt: the first got past this gate) finishes as running jobs of a paused type do.
      // Not told by a heartbeat sent at the start: the SDK throttles the ones after the first, and
      // a job's first saved progress must go out at once.
      const startedBefore = info.attempt > 1;
      if (gate?.paused && !startedBefore && !grantedSincePause(input.admission, gate.paused_at)) return { outcome: 'queued' };
      // A run started without its type's limit (a schedule or a retry from before the limit, or
      // before the limit was configured) still waits for a slot like every other run of the type.
      if (deps.registry.concurrencyLimit(input.name) !== undefined && !input.admission.granted) return { outcome: 'queued' };
    }
    // The job's code gets its parameters as submitted; its log never shows their secrets.
    const secrets = secretValues(parameters);
    const logger = maskingLogger(deps.loggers.open(input.id), secrets);
    const overrunCap = info.isLocal
      ? 'its cap as a short job'
      : `job.max_run_hours (${Number((info.startToCloseTimeoutMs / 3_600_000).toPrecision(4))} h)`;
    let reportedRunning: Promise<void> | undefined;
    const reportRunning = () =>
      (reportedRunning ??= report(handle, jobStartedUpdate, { revision: input.revision, attempt: info.attempt }).catch((err) =>
        logger.warning(`could not report Running: ${(err as Error).message}`),
      ));
    // A short job's run (a local activity) reports nothing while it runs: its workflow task is open
    // until it ends, and a report would only cost another task once it has.
    const runningTimer = info.isLocal ? undefined : setTimeout(reportRunning, deps.runningReportDelayMs);

    logger.info(`run of ${input.name} started (revision ${input.revision}, attempt ${info.attempt})`);
    if (input.admission && info.attempt === 1) {
      deps.metrics?.recordStart(input.name, (Date.now() - input.admission.pendingSinceMs) / 1000);
      // A periodic execution's id carries its nominal time; its first run started this long after it.
      const nominal = input.upstreamJobId && input.admission.firstRun ? executionAlias(input.id) : undefined;
      if (nominal) deps.metrics?.recordFire(input.name, input.admission.pendingSinceMs / 1000 - Number(nominal.split('@')[1]));
    }
    const saved = info.heartbeatDetails as Partial<RunHeartbeat> | undefined;
    const resumed = saved?.revision === input.revision ? saved : undefined;
    // Details always carry the revision, so a retry of a different run never resumes this one's progress.
    // A short job's run is a local activity: no heartbeats (its cap bounds it), and none after it timed out.
    // A retry's heartbeats carry on what the lost attempt saved until the job saves anew, or a
    // second loss before that would forget it.
    let progress: unknown = resumed?.progress;
    let progressSaved = false;
    let carried: CarriedCheckIn | undefined = resumed?.checkIn;
    /** Set once the workflow says its history has taken its share of check-in updates. */
    let carryCheckIns = false;
    const beat = () => {
      if (!info.isLocal)
        activity.heartbeat({ revision: input.revision, progress, ...(carried ? { checkIn: carried } : {}) } satisfies RunHeartbeat);
    };
    const heartbeat = info.isLocal ? undefined : setInterval(beat, deps.heartbeatIntervalMs);
    let abandonTimer: ReturnType<typeof setTimeout> | undefined;
    /** The job's code has returned (or thrown). */
    let returned = false;
    let abandoned = false;
    let interruption: Interruption | undefined;
    // Made when the job first looks at its signal (most short jobs never do: an AbortSignal and its
    // listener are a few µs of EventTarget set-up), already aborted if the run was interrupted before that.
    let abort: AbortController | undefined;
    const signal = () => {
      if (!abort) {
        abort = new AbortController();
        if (interruption !== undefined) abort.abort(interruption);
      }
      return abort.signal;
    };
    activity.cancellationSignal.addEventListener(
      'abort',
      () => {
        void whyCancelled(activity, handle, begunAt).then((why) => {
          // The answer came after the run had returned on its own: nothing left to interrupt, and
          // no grace to wait out (its log is closed, and an abandon would count a run that is gone).
          if (returned) return;
          interruption = why;
          logger.info(
            why === 'shutdown'
              ? 'worker is shutting down; interrupting the run'
              : why === 'overrun'
                ? `the run overran ${overrunCap} and has failed; asking it to stop`
                : `received ${why}`,
          );
          abort?.abort(why);
          if (why !== 'shutdown' && why !== 'overrun' && deps.stopGraceMs !== undefined) {
            // Past the grace period the job is marked Stopped without this run: it is abandoned, and still here.
            abandonTimer = setTimeout(() => {
              abandoned = true;
              logger.warning(`still running ${deps.stopGraceMs} ms after ${why}: abandoned, this worker slot stays taken until it returns`);
              deps.metrics?.abandonedRun(+1);
            }, deps.stopGraceMs);
          }
        });
      },
      { once: true },
    );
    const checkIns = createCheckInCoalescer(
      deps.checkinMinIntervalMs,
      async (message, at) => {
        // A check-in moves the job to Running by itself: a separate Running report would be one
        // more update saying the same.
        clearTimeout(runningTimer);
        // A run asked to stop (or whose worker is leaving) reports no more: its workflow is winding
        // the job up, and a report would wait on a workflow task that may not come before the end.
        // Its last check-in (a summary of what it did before it stopped) goes back with its result.
        if (interruption !== undefined) {
          carried = { message, at };
          return;
        }
        if ((input.checkIns === 'heartbeat' || carryCheckIns) && reportedRunning !== undefined) {
          // Running is reported: later check-ins cost no workflow task. The next regular heartbeat
          // (within a second) carries the newest; a heartbeat of its own would be one more write.
          carried = { message, at };
          return;
        }
        const sent = report(handle, checkInUpdate, { revision: input.revision, message, at });
        // The check-in that moves the job to Running is its Running report.
        reportedRunning ??= sent.then(
          () => undefined,
          () => undefined,
        );
        if ((await sent)?.carry && !carryCheckIns) {
          carryCheckIns = true;
          logger.warning(
            'the job history has taken its share of check-ins: from now on they show in stats, and the final status hook carries the last',
          );
        }
      },
      (err) => logger.warning(`check-in not delivered: ${(err as Error).message}`),
    );

    const ctx: JobContext = {
      jobId: input.id,
      revision: input.revision,
      upstreamJobId: input.upstreamJobId,
      logger,
      get signal() {
        return signal();
      },
      // A check-in is shown in stats, hooks and the memo: it never carries the job's secrets.
      checkin: (message) => checkIns.push(boundedCheckIn(maskSecrets(String(message), secrets), logger)),
      opCommand: () =>
        interruption === undefined ? undefined : interruption === 'shutdown' || interruption === 'overrun' ? OpCommand.Stop : interruption,
      get: (key) => deps.properties[key],
      launchJob: async (request) => {
        // A short run holds its workflow's task until it returns, so the launch (an update to that
        // workflow) could not be handled before the run's cap: say so rather than overrun it.
        if (info.isLocal) throw new Error(`launchJob: ${input.name} is a short job; a job that launches sub jobs cannot be short`);
        const sub = deps.registry.get(request.name);
        if (!sub) throw new Error(`launchJob: no job named ${request.name} is registered`);
        const parameters = request.parameters ?? {};
        const checked = sub.params.safeParse(parameters);
        if (!checked.success) throw new Error(`launchJob: parameters of ${request.name} are invalid: ${z.prettifyError(checked.error)}`);
        const statusHook = request.status_hook || undefined;
        if (statusHook !== undefined) {
          const url = StatusHookUrlSchema.safeParse(statusHook);
          if (!url.success) throw new Error(`launchJob: status_hook ${redactText(statusHook)}: ${z.prettifyError(url.error)}`);
          const refused = await hookAllowList.refuse(statusHook);
          if (refused) throw new Error(`launchJob: status_hook: ${refused}`);
        }
        const id = await handle.executeUpdate(launchJobUpdate, {
          args: [
            {
              name: request.name,
              // Recorded in the job's history (the update) and the sub job's input: sealed.
              parameters: sealer.sealParameters(parameters),
              ...deps.registry.startPolicy(request.name, parameters),
              ...(sub.fanOut ? { fanOut: true } : {}),
              ...(statusHook !== undefined ? { statusHook: sealer.sealText(statusHook) } : {}),
            },
          ],
        });
        logger.info(`launched sub job ${request.name} ${id}`);
        return id;
      },
      sleep: (ms) => abortableSleep(ms, signal()),
      saveProgress: (value) => {
        const first = !progressSaved;
        progressSaved = true;
        progress = value;
        // The first is sent now, not at the next tick; later ones ride the once-a-second beat (a
        // heartbeat serializes its details at once, and a job may save after every step).
        if (first) beat();
      },
      savedProgress: () => resumed?.progress,
      saveFile: async (name, bytes) => {
        if (!deps.logDir) throw new Error('saveFile needs the FILE job logger (job_loggers), whose directory keeps the files');
        await saveBatchFile(deps.logDir, input.id, name, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
      },
    };

    let failure: Error | undefined;
    const startedAt = performance.now();
    let plan: FanOutPlan | undefined;
    try {
      if (input.mode === 'plan') {
        if (!definition.fanOut) throw new Error(`job ${input.name} does not fan out`);
        const planned = await definition.fanOut.plan(ctx, parsed.data);
        plan = {
          ...sealedPlan(input.compactTargets ? planned : withFullTargets(planned), sealer),
          childName: definition.fanOut.child,
          ...deps.registry.startPolicy(definition.fanOut.child),
        };
        assertPlanFits(plan);
      } else {
        await definition.run(ctx, parsed.data);
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      returned = true;
      clearTimeout(abandonTimer);
      if (abandoned) deps.metrics?.abandonedRun(-1);
      clearTimeout(runningTimer);
      // A worker shutting down takes no more workflow tasks, so a report would wait for nothing.
      // The run heartbeats while it waits on its last reports: a slow workflow must not make
      // Temporal take the run for lost and run the job's code again.
      try {
        if (interruption !== 'shutdown') {
          await reportedRunning;
          await checkIns.flush();
        }
      } finally {
        clearInterval(heartbeat);
      }
    }
    const lastCheckIn: { checkIn?: CarriedCheckIn } = carried ? { checkIn: carried } : {};
    if (interruption !== 'shutdown') {
      const outcome =
        interruption === 'overrun' || (interruption === undefined && failure) ? 'fail' : interruption !== undefined ? 'stop' : 'success';
      deps.metrics?.recordRun(input.name, outcome, (performance.now() - startedAt) / 1000);
    }
    try {
      if (interruption === 'shutdown') {
        throw ApplicationFailure.retryable('worker shut down during the run', 'WorkerShutdown');
      }
      if (interruption === 'overrun') {
        // Its workflow failed the run at the cap and ignores this answer.
        logger.warning(`run ended after it overran ${overrunCap}; its result is ignored`);
        throw ApplicationFailure.nonRetryable(`the run overran ${overrunCap}`, FailureType.JobFailed);
      }
      if (interruption !== undefined) {
        logger.info(`run ended after ${interruption}`);
        return { outcome: interruption, ...lastCheckIn };
      }
      if (failure) {
        const message = maskSecrets(failure.message, secrets);
        logger.error(`run failed: ${message}`);
        throw ApplicationFailure.create({ message, type: FailureType.JobFailed, nonRetryable: true, details: [lastCheckIn] });
      }
      logger.info(plan ? `planned ${plan.targets.length} ${plan.childName} sub job(s)` : 'run finished');
      return plan ? { outcome: 'done', plan, ...lastCheckIn } : { outcome: 'done', ...lastCheckIn };
    } finally {
      await logger.close();
    }
  };
}

/**
 * The type's queue as the run starts, read until it answers: an attempt that failed here would come
 * back as a later attempt, which counts as a run that had started and passes a pause (see above).
 * The run heartbeats meanwhile and ends on its cancellation.
 */
async function readGate(gates: GateReader, taskQueue: string, name: string, activity: Context): ReturnType<GateReader> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await gates(taskQueue, name);
    } catch (err) {
      if (activity.cancellationSignal.aborted) throw err;
      // What an earlier attempt saved stays what the next one gets.
      if (!activity.info.isLocal) activity.heartbeat(activity.info.heartbeatDetails);
      await abortableSleep(wait, activity.cancellationSignal);
    }
  }
}

/** How long a run waits for its workflow to take a report before it goes on without knowing. */
const REPORT_WAIT_MS = 5_000;

/**
 * A report to the run's workflow, as an update (see job-messages). A run never waits on it longer
 * than REPORT_WAIT_MS: a busy workflow worker must not hold the job up; the report may still land.
 */
async function report<R, A>(handle: WorkflowHandle, update: UpdateDefinition<R, [A]>, event: A): Promise<R> {
  const answered = await within(
    handle.executeUpdate(update, { args: [event] }).then((result) => ({ result })),
    REPORT_WAIT_MS,
  );
  if (answered === undefined) throw new Error(`no answer within ${REPORT_WAIT_MS} ms`);
  return answered.result;
}

/** `promise`'s value, or `undefined` once `ms` have passed without one (the promise may still settle later). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cancellation does not say why; the workflow knows whether it was a stop or a cancel. */
async function whyCancelled(activity: Context, handle: WorkflowHandle, begunAt: number): Promise<Interruption> {
  const details = activity.cancellationDetails;
  if (details?.workerShutdown) return 'shutdown';
  const { isLocal, startToCloseTimeoutMs } = activity.info;
  if (details?.timedOut && isLocal) return 'overrun';
  // Past max_run_hours the server times the run out, and its next heartbeat learns that it is gone
  // (or that it timed out): a heartbeat's own timeout comes sooner, and a stop is no timeout.
  if ((details?.timedOut || details?.notFound) && Date.now() - begunAt >= startToCloseTimeoutMs - 1000) return 'overrun';
  if (details?.notFound) return OpCommand.Stop;
  try {
    return (await within(handle.query(opCommandQuery), 3000)) ?? OpCommand.Stop;
  } catch {
    return OpCommand.Stop;
  }
}

function maskingLogger<L extends JobLogger>(logger: L, secrets: readonly string[]): L {
  const mask = (write: (message: string) => void) => (message: string) => write(maskSecrets(String(message), secrets));
  return {
    ...logger,
    debug: mask((m) => logger.debug(m)),
    info: mask((m) => logger.info(m)),
    warning: mask((m) => logger.warning(m)),
    error: mask((m) => logger.error(m)),
  };
}

/**
 * The most of a check-in kept, in UTF-16 code units. A check-in travels in an update, the job's
 * state, its memo and its hook event at once: one of a few MB made every workflow task of the job
 * fail ("message too large"), so the job never moved again and a stop could not reach it.
 */
export const MAX_CHECKIN_CHARS = 128 * 1024;

function boundedCheckIn(message: string, logger: { warning(text: string): void }): string {
  if (message.length <= MAX_CHECKIN_CHARS) return message;
  logger.warning(`check-in of ${message.length} characters cut to ${MAX_CHECKIN_CHARS}`);
  const marker = `…[${message.length - MAX_CHECKIN_CHARS} more characters cut]`;
  return message.slice(0, MAX_CHECKIN_CHARS - marker.length) + marker;
}

/**
 * Whether a run's slot was granted after its queue's pause (a read of the queue from before a
 * resume and a new pause). `paused_at` is whole seconds: a grant within the pause's second counts as
 * before it, as a paused queue grants nothing. A grant of unknown time is not held back.
 */
function grantedSincePause(admission: RunAdmission, pausedAt: number | undefined): boolean {
  if (!admission.granted) return false;
  if (admission.grantedAtMs === undefined || pausedAt === undefined) return true;
  return admission.grantedAtMs >= (pausedAt + 1) * 1000;
}

/** A plan for workflow code from before targetKey (a rolling deploy): every target's parameters said in full. */
export function withFullTargets<P extends Pick<FanOutPlan, 'targets' | 'targetKey'>>(planned: P): P {
  if (!planned.targetKey) return planned;
  const { targetKey: _key, ...rest } = planned;
  return { ...rest, targets: planned.targets.map((t) => ({ target: t.target, parameters: targetParameters(planned, t) })) } as P;
}

/** Temporal's limit on one payload is 2 MB; the result around the plan takes a little. */
const MAX_PLAN_BYTES = 1_900_000;
/** What a target costs the execution's results besides its name: its job id, status and its place in sub_jobs. */
const RESULT_BYTES_PER_TARGET = 80;

/**
 * A plan too large for Temporal is said at once, in words: rather than as the server's "Complete
 * result exceeds size limit", or hours in, as the execution's results (a line per target in its
 * memo as it ends, and in its hand-over to a next run) outgrow its 2 MB.
 */
function assertPlanFits(plan: FanOutPlan): void {
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(2);
  const split = 'split the job (its scope, patterns) into smaller ones';
  const carried = plan.targets.reduce((sum, t) => sum + Buffer.byteLength(t.target) + RESULT_BYTES_PER_TARGET, 0);
  if (carried > MAX_PLAN_BYTES) {
    throw new Error(
      `an execution of ${plan.targets.length} targets would carry about ${mb(carried)} MB of per-target results, ` +
        `over the ${MAX_PLAN_BYTES / 1_000_000} MB Temporal takes in one memo or input: ${split}`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(plan));
  if (bytes > MAX_PLAN_BYTES) {
    throw new Error(
      `the plan of ${plan.targets.length} targets is ${mb(bytes)} MB, over the ${MAX_PLAN_BYTES / 1_000_000} MB ` +
        `an activity result may carry in Temporal: ${split}`,
    );
  }
}

/** A plan goes back to the workflow and into every target's input: what its parameters hold secret is sealed. */
function sealedPlan<P extends { targets: FanOutTarget[]; shared?: Record<string, unknown> }>(planned: P, sealer: Sealer): P {
  if (sealer.keyId === undefined) return planned;
  return {
    ...planned,
    targets: planned.targets.map((t) => (t.parameters ? { ...t, parameters: sealer.sealParameters(t.parameters) } : t)),
    ...(planned.shared ? { shared: sealer.sealParameters(planned.shared) } : {}),
  };
}
