import { setTimeout as sleep } from 'node:timers/promises';
import { nowSec } from '../shared/time.js';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import { parseCronSpec, splitCronZone } from '../schedules/cron-spec.js';
import { JobStatus, MEMO_STATE, type JobStats, type JobTimings } from '../shared/job-model.js';
import { NO_SEALING, withSecrets, type Sealer } from '../secrets/sealer.js';
import { periodicExecutionTemplate } from '../shared/job-start.js';
import { compactInput, type StartInput } from '../shared/start-input.js';
import { JobStatusKey, periodicExecutionsQuery, UNFINISHED_JOBS } from '../shared/search-attributes.js';
import { ScheduledJob } from '../workflows/job-workflow.js';
import { conflict } from './api-error.js';
import { boundedRpc } from './bounded-rpc.js';
import { redactParameters, redactText } from '../shared/redact.js';
import { consecutiveFailures } from '../schedules/schedule-health.js';
import type { Listed } from './visibility-page.js';
import type { ListJobsQuery } from './contract.js';
import { newJobId } from './new-job-id.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';
import { clearStaleStopMark, listPeriodicJobs } from './periodic-list.js';
import { refreshPolicies, replaceExecutionInput } from './periodic-policies.js';
import {
  DEFAULT_CATCHUP_WINDOW_MS,
  isStopped,
  MEMO_PERIODIC,
  OVERLAP,
  periodicRecord,
  scheduleSearchAttributes,
  searchAttributesWithStatus,
  type PeriodicOptions,
  type PeriodicRecord,
} from './periodic-record.js';
import { nextFireNeverWaitsOnHooks, historyLimits, refusedSpecIsBadRequest, scheduleSpec } from './periodic-spec.js';
import { newestFirst, recentExecutionIds, toPeriodicStats } from './periodic-stats.js';
import { idsAmong } from '../temporal/ids-among.js';
import { stopPeriodicJob, sweepStopped, type SweepCursor } from './periodic-stop.js';
import { changeSchedule } from '../temporal/schedule-write.js';
import type { BackgroundWork } from '../process/background-work.js';

/** Past the second of the last action by this much, for the server's clock against ours. */
const SECOND_MARGIN_MS = 50;
/** How long a trigger's answer waits for the schedule to take it (it does within milliseconds unless the server is struggling). */
const TRIGGER_TAKEN_MS = 3_000;

export interface PeriodicGatewayDeps {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
  timings: JobTimings;
  /** Seals the secrets of the executions' input (`job.sealing_keys`). */
  sealer?: Sealer;
  /** Where a stop's sweep of stopped jobs goes on after the stop has answered. */
  background: BackgroundWork;
}

/** Periodic jobs are Temporal Schedules whose id is the job id; each fire starts a ScheduledJob workflow. */
export class PeriodicGateway {
  constructor(private readonly deps: PeriodicGatewayDeps) {}

  async create(request: {
    name: string;
    parameters: Record<string, unknown>;
    statusHook?: string;
    cronSpec: string;
    options: PeriodicOptions;
  }): Promise<JobStats> {
    // The request schema has checked the cron spec and the time zone.
    const times = parseCronSpec(request.cronSpec);
    // A zone the spec names (`CRON_TZ=…`, as Harbor's cron parser takes it) is the job's zone.
    const { zone } = splitCronZone(request.cronSpec);
    const options = zone !== undefined && request.options.timezone === undefined ? { ...request.options, timezone: zone } : request.options;
    const id = newJobId();
    // The record is for showing the job: no secrets (the schedule's action keeps them for the executions).
    const record: PeriodicRecord = {
      id,
      ...request,
      options,
      parameters: redactParameters(request.parameters),
      ...(request.statusHook ? { statusHook: redactText(request.statusHook) } : {}),
      enqueueTime: nowSec(),
    };
    // Every fire starts the same input; the workflow takes its own id and times (see executionInput).
    const execution = periodicExecutionTemplate(id, {
      name: request.name,
      parameters: request.parameters,
      ...this.deps.registry.startPolicy(request.name, request.parameters),
      timings: nextFireNeverWaitsOnHooks(this.deps.timings, options),
      statusHook: request.statusHook,
      historyLimits: historyLimits(options),
      pauseAfterFailures: options.pause_after_failures,
      fanOut: this.deps.registry.get(request.name)?.fanOut ? true : undefined,
      abandonOnCancel: options.concurrency_policy === 'Replace' ? true : undefined,
    });
    await this.rpc(() =>
      refusedSpecIsBadRequest(
        this.deps.client.schedule.create({
          scheduleId: id,
          spec: scheduleSpec(times, options),
          action: {
            type: 'startWorkflow',
            workflowType: ScheduledJob,
            // Temporal appends each fire's nominal time: `<id>-<RFC 3339 second>` (see executionId).
            workflowId: id,
            taskQueue: this.deps.taskQueue,
            args: [compactInput(withSecrets(execution.input, this.sealer.sealParameters, this.sealer.sealText))],
            memo: execution.memo,
            typedSearchAttributes: execution.typedSearchAttributes,
            staticSummary: execution.staticSummary,
          },
          policies: {
            overlap: OVERLAP[options.concurrency_policy ?? 'Allow'],
            catchupWindow: options.starting_deadline_seconds ? options.starting_deadline_seconds * 1000 : DEFAULT_CATCHUP_WINDOW_MS,
          },
          state: { paused: options.suspend ?? false, note: options.suspend ? 'suspended at creation' : undefined },
          memo: { [MEMO_PERIODIC]: record },
          typedSearchAttributes: scheduleSearchAttributes(request.name, JobStatus.Scheduled, this.deps.taskQueue),
        }),
      ),
    );
    // A new schedule has no executions yet: its stats need the describe (next run times) only.
    const handle = this.deps.client.schedule.getHandle(id);
    return toPeriodicStats(record, await this.rpc(() => handle.describe()), 0, new Set(), this.sealer.unsealParameters);
  }

  /** Stats of a periodic job, or undefined when no schedule has that id. */
  async find(id: string): Promise<JobStats | undefined> {
    try {
      return await this.stats(id);
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }

  /** The schedule's overlap policy as it is now (an operator may have changed it); undefined once it is gone. */
  async overlapPolicy(id: string): Promise<ScheduleDescription['policies']['overlap'] | undefined> {
    try {
      return (await this.rpc(() => this.deps.client.schedule.getHandle(id).describe())).policies.overlap;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }

  async stats(id: string): Promise<JobStats> {
    const description = await this.rpc(() => this.deps.client.schedule.getHandle(id).describe());
    const record = periodicRecord(description);
    const [active, lastSuccess, failures, existing] = await Promise.all([
      this.rpc(() => this.deps.client.workflow.count(`${periodicExecutionsQuery(id)} AND ${UNFINISHED_JOBS}`)),
      this.rpc(() => this.lastSuccessfulTime(id)),
      this.rpc(() => consecutiveFailures(this.deps.client, id)),
      // Which of the executions the schedule started are still there: history limits delete the oldest.
      this.rpc(() => idsAmong(this.deps.client, recentExecutionIds(description.info.recentActions), periodicExecutionsQuery(id))),
    ]);
    await clearStaleStopMark(this.deps.client, id, record.name, description);
    const stats = toPeriodicStats(record, description, active.count, existing, this.sealer.unsealParameters);
    stats.consecutive_failures = failures;
    // Why the schedule is paused, when it was not by a plain pause: stopped, suspended, or its failures.
    if (description.state.paused && description.state.note) stats.paused_note = description.state.note;
    if (lastSuccess !== undefined) stats.last_successful_time = lastSuccess;
    const stoppedAt = stats.status === JobStatus.Stopped ? description.info.lastUpdatedAt : undefined;
    const retention = stoppedAt ? await namespaceRetentionSeconds(this.deps.client) : undefined;
    // A stopped periodic job goes when a finished job's record would (see sweepStopped).
    if (stoppedAt && retention) stats.die_at = Math.floor(stoppedAt.getTime() / 1000) + retention;
    return stats;
  }

  /**
   * Visibility lists closed executions newest-closed first, so the first successful one is the last
   * success. One that is Success but still open (handing over its last hooks) lists first: its time
   * is when it became Success (its memo), not when it started.
   */
  private async lastSuccessfulTime(id: string): Promise<number | undefined> {
    const query = `${periodicExecutionsQuery(id)} AND ${JobStatusKey.name} = '${JobStatus.Success}'`;
    for await (const execution of this.deps.client.workflow.list({ query, pageSize: 1 })) {
      if (execution.closeTime) return Math.floor(execution.closeTime.getTime() / 1000);
      const state = execution.memo?.[MEMO_STATE] as { update_time?: number } | undefined;
      return state?.update_time ?? Math.floor(execution.startTime.getTime() / 1000);
    }
    return undefined;
  }

  /** Brings every periodic job's schedule to today's configuration and job types (see refreshPolicies in periodic-policies.ts). */
  async refreshPolicies(signal?: AbortSignal): Promise<number> {
    return refreshPolicies(this.deps, signal);
  }

  /** Replaces a schedule's executions' input under its conflict token (see replaceExecutionInput in periodic-policies.ts). */
  async replaceExecutionInput(scheduleId: string, description: ScheduleDescription, fresh: StartInput): Promise<boolean> {
    return replaceExecutionInput(this.deps.client, scheduleId, description, fresh);
  }

  /** Deletes the jobs stopped longer ago than the retention (see sweepStopped in periodic-stop.ts). */
  async sweepStopped(keepSeconds?: number, batch?: number): Promise<number> {
    return sweepStopped(this.deps, this.sweepCursor, keepSeconds, batch);
  }

  /** Where the next sweep of stopped jobs reads on (see sweepStopped). */
  private readonly sweepCursor: SweepCursor = { sweepFrom: 0 };

  /** stop: never fires again; stats stay readable (see stopPeriodicJob in periodic-stop.ts). */
  async stop(stats: JobStats): Promise<string[]> {
    return stopPeriodicJob(this.deps, this.sweepCursor, stats);
  }

  /** Seals the executions' input (the record and the memo show it redacted). */
  private get sealer(): Sealer {
    return this.deps.sealer ?? NO_SEALING;
  }

  async pause(stats: JobStats): Promise<void> {
    if (stats.status === JobStatus.Stopped) throw conflict(`periodic job ${stats.id} is stopped`);
    if (stats.paused) return;
    await changeSchedule(this.deps.client, stats.id, (schedule) => {
      // A stop may have landed since `stats` were read.
      if (isStopped(schedule)) throw conflict(`periodic job ${stats.id} is stopped`);
      if (schedule.state.paused) return undefined;
      // A job an operator revived from Stopped still carries the mark: a pause clears it, or the
      // paused job would read Stopped.
      return {
        state: { paused: true, note: 'paused via the jobservice API' },
        searchAttributes: searchAttributesWithStatus(schedule, stats.name, JobStatus.Scheduled),
      };
    });
  }

  async resume(stats: JobStats): Promise<void> {
    if (stats.status === JobStatus.Stopped) throw conflict(`periodic job ${stats.id} is stopped and cannot resume`);
    if (!stats.paused) return;
    await changeSchedule(this.deps.client, stats.id, (schedule) => {
      if (isStopped(schedule)) throw conflict(`periodic job ${stats.id} is stopped and cannot resume`);
      return schedule.state.paused ? { state: { paused: false, note: 'resumed via the jobservice API' } } : undefined;
    });
  }

  /** Periodic jobs, newest first (see listPeriodicJobs in periodic-list.ts). */
  async list(query: ListJobsQuery): Promise<Listed<JobStats>> {
    return listPeriodicJobs(this.deps.client, this.deps.taskQueue, query);
  }

  /**
   * Run now, under the schedule's overlap policy as it is now (an operator may have changed it, and
   * the SDK would default to ALLOW_ALL), so this one reads the schedule itself.
   */
  async trigger(stats: JobStats): Promise<void> {
    if (stats.status === JobStatus.Stopped) throw conflict(`periodic job ${stats.id} is stopped`);
    const handle = this.deps.client.schedule.getHandle(stats.id);
    const description = await this.rpc(() => handle.describe());
    // An execution's id is the second it is for: a trigger within the second of the last action
    // (another trigger, a cron fire) would start the same workflow id, and the schedule drops it.
    // The newest fire, not the last taken: an operator's backfill of a past fire is taken last.
    const last = newestFirst(description.info.recentActions)[0];
    const clearMs = last ? (Math.floor(last.scheduledAt.getTime() / 1000) + 1) * 1000 + SECOND_MARGIN_MS - Date.now() : 0;
    if (clearMs > 0) await sleep(Math.min(clearMs, 1000 + SECOND_MARGIN_MS));
    await this.rpc(() => handle.trigger(description.policies.overlap));
    // Answered once the schedule has taken it (started, skipped or buffered by its overlap policy),
    // so that the next trigger sees it above.
    const taken = (d: ScheduleDescription) =>
      d.info.numActionsTaken + d.info.numActionsSkippedOverlap + Number(d.raw.info?.bufferSize ?? 0);
    const before = taken(description);
    const deadline = Date.now() + TRIGGER_TAKEN_MS;
    let now = description;
    while (Date.now() < deadline && taken(now) <= before) {
      await sleep(50);
      now = await this.rpc(() => handle.describe());
    }
    // Run now, the operator asked: one the policy dropped is not a silent 204.
    if (now.info.numActionsSkippedOverlap > description.info.numActionsSkippedOverlap)
      throw conflict(`periodic job ${stats.id}: the trigger was skipped: an execution still runs and its concurrency_policy is Forbid`);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return boundedRpc(this.deps.client, fn);
  }
}
