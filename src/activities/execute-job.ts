import { nowSec } from '../shared/time.js';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import type { JobContext } from '../jobs/job-context.js';
import type { FanOutPlan } from '../shared/fan-out.js';
import { FailureType } from '../shared/failures.js';
import { OpCommand } from '../shared/job-model.js';
import { checkInUpdate, jobStartedUpdate } from '../workflows/job-messages.js';
import { saveBatchFile } from '../jobs/batch/batch-files.js';
import { createCheckInCoalescer } from './checkin-coalescer.js';
import { abortableSleep } from '../process/abortable-sleep.js';
import { givenBeforeStart } from './interrupted-before-retry.js';
import { fencedOut } from '../shared/job-queue.js';
import { maskSecrets, secretValues } from '../shared/redact.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { NO_SEALING, UnsealError } from '../secrets/sealer.js';
import { executionAlias } from '../shared/job-id.js';
import type { ActivityDeps } from './activity-deps.js';
import { assertPlanFits, sealedPlan, withFullTargets } from './fan-out-plan.js';
import { launchSubJob } from './launch-sub-job.js';
import { grantedSincePause, readGate } from './run-gate.js';
import { boundedCheckIn, maskingLogger, report, whyCancelled, type Interruption } from './run-reports.js';
import type { CarriedCheckIn, ExecuteJobInput, ExecuteJobResult, JobActivities, RunHeartbeat } from './types.js';

export type { ActivityDeps } from './activity-deps.js';
export { withFullTargets } from './fan-out-plan.js';

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
    const saved = info.heartbeatDetails as Partial<RunHeartbeat> | undefined;
    // Details always carry the revision, so a retry of a different run never resumes this one's progress.
    const resumed = saved?.revision === input.revision ? saved : undefined;
    const interrupted = await givenBeforeStart(deps.client, info, input.scheduledAfterEvent, begunAt);
    if (interrupted) {
      // What the lost attempt did (a RETENTION repository's deletes) is still reported.
      const report = interrupted.again ? definition.stoppedBeforeStart?.(parsed.data, resumed?.progress) : undefined;
      const result = await notStarted(deps, input.id, interrupted.given, interrupted.why, interrupted.again);
      return report === undefined ? result : { ...result, checkIn: { message: report, at: nowSec() } };
    }
    if (input.admission) {
      const gate = await readGate(deps.gates, input.admission.taskQueue, input.name, activity);
      // Checked as the run starts, so a run waiting in the task queue's backlog obeys a pause or stop given meanwhile.
      if (fencedOut(gate, input.admission.pendingSinceMs)) {
        return notStarted(deps, input.id, OpCommand.Stop, `the ${input.name} queue was stopped while this run was pending`);
      }
      // A pause holds back runs that have not started: a run back after its worker was lost (a
      // later attempt: the first got past this gate) finishes as running jobs of a paused type do.
      // Not told by a heartbeat sent at the start: the SDK throttles the ones after the first, and
      // a job's first saved progress must go out at once.
      const startedBefore = info.attempt > 1 || input.admission.continued === true;
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
    // A fan-out job is counted as it ends, by its workflow (job-sinks.ts): its activity only plans.
    const counted = input.mode !== 'plan';
    if (input.admission && info.attempt === 1 && (counted || !input.admission.continued)) {
      deps.metrics?.recordStart(input.name, (Date.now() - input.admission.pendingSinceMs) / 1000);
      // A periodic execution's id carries its nominal time; its first run started this long after it.
      const nominal = input.upstreamJobId && input.admission.firstRun ? executionAlias(input.id) : undefined;
      if (nominal) deps.metrics?.recordFire(input.name, input.admission.pendingSinceMs / 1000 - Number(nominal.split('@')[1]));
    }
    // A short job's run is a local activity: no heartbeats (its cap bounds it), and none after it timed out.
    // A retry's heartbeats carry on what the lost attempt saved until the job saves anew, or a
    // second loss before that would forget it.
    let progress: unknown = resumed?.progress;
    let progressSaved = false;
    // The nth launch of a revision is one sub job, whichever attempt asks (launch-sub-job.ts).
    const launching = { deps, hookAllowList, handle, sealer, logger, isLocal: info.isLocal, parent: input.name };
    let launches = 0;
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
        // Counted by the worker, whose shutdown waits for it: the read may outlive the run.
        void deps.background.track(whyCancelled(activity, handle, begunAt)).then((why) => {
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
        // A short job's run (a local activity) holds its workflow task until it returns, so no update
        // could be taken before then: its check-ins go back with its result too.
        if (interruption !== undefined || info.isLocal) {
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
        const answer = await sent.catch((err: unknown) => {
          // Not lost: it rides the heartbeats (stats show it) and goes back with the run's result.
          carried = { message, at };
          throw err;
        });
        // What the workflow took supersedes one that earlier failed to go out.
        if (carried && carried.at <= at) carried = undefined;
        if (answer?.carry && !carryCheckIns) {
          carryCheckIns = true;
          logger.warning(
            'the job history has taken its share of check-ins: from now on they show in stats, and the final status hook carries the last',
          );
        }
      },
      (err) => logger.warning(`check-in not taken by the job's workflow (it goes back with the run's result): ${(err as Error).message}`),
    );

    const ctx: JobContext = {
      jobId: input.id,
      revision: input.revision,
      upstreamJobId: input.upstreamJobId,
      logger,
      stopGraceMs: deps.stopGraceMs,
      get signal() {
        return signal();
      },
      // A check-in is shown in stats, hooks and the memo: it never carries the job's secrets.
      checkin: (message) => checkIns.push(boundedCheckIn(maskSecrets(String(message), secrets), logger)),
      opCommand: () =>
        interruption === undefined ? undefined : interruption === 'shutdown' || interruption === 'overrun' ? OpCommand.Stop : interruption,
      get: (key) => deps.properties[key],
      launchJob: (request) => launchSubJob(launching, request, `launch-${input.revision}-${++launches}`),
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
    if (interruption !== 'shutdown' && counted) {
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
        return { outcome: interruption, ran: true, ...lastCheckIn };
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

/** A run that ends before the job's code starts, with why in the job's log. */
async function notStarted(deps: ActivityDeps, id: string, given: OpCommand, why: string, again = ''): Promise<ExecuteJobResult> {
  const logger = deps.loggers.open(id);
  logger.info(`not started${again ? ` ${again}` : ''}: ${why}`);
  await logger.close();
  return { outcome: given };
}
