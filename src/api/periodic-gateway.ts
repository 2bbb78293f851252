import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowSec } from '../shared/time.js';
import {
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
  type ScheduleSpec,
  type ScheduleSummary,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { JobRegistry } from '../jobs/job-registry.js';
import { parseCronSpec, splitCronZone } from '../schedules/cron-spec.js';
import { formatInZone } from '../schedules/format-in-zone.js';
import { JobKind, JobStatus, MEMO_INPUT, MEMO_STATE, refLink, type JobInput, type JobStats, type JobTimings } from '../shared/job-model.js';
import { NO_SEALING, withSecrets, type Sealer } from '../secrets/sealer.js';
import { periodicExecutionTemplate } from '../shared/job-start.js';
import { compactInput, expandInput, type StartInput } from '../shared/start-input.js';
import { JobKindKey, JobNameKey, JobStatusKey, periodicExecutionsQuery, UNFINISHED_JOBS } from '../shared/search-attributes.js';
import { ScheduledJob } from '../workflows/job-workflow.js';
import { HookDelivery, type HookDeliveryInput } from '../workflows/hook-delivery-workflow.js';
import { DEFAULT_HOOK_TIMINGS, hookEvent } from '../shared/hook-event.js';
import type { HistoryLimits } from '../schedules/history-limits.js';
import { badRequest, conflict, notFound } from './api-error.js';
import { boundedRpc } from './bounded-rpc.js';
import { redactParameters, redactText } from '../shared/redact.js';
import { consecutiveFailures } from '../schedules/schedule-health.js';
import { firstRow, readPage, type Listed } from './visibility-page.js';
import type { JobMetadata, ListJobsQuery, PeriodicOptionKey } from './contract.js';
import { newJobId } from './new-job-id.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';

/** A periodic job as it was submitted: kept in its schedule's memo (describe returns calendars, not the string). */
export interface PeriodicRecord {
  id: string;
  name: string;
  parameters: Record<string, unknown>;
  statusHook?: string;
  cronSpec: string;
  options: PeriodicOptions;
  enqueueTime: number;
}

export type PeriodicOptions = Pick<JobMetadata, PeriodicOptionKey>;

export const MEMO_PERIODIC = 'periodic';
/** The note a stopped periodic job's schedule carries; a stopped job never fires again. */
export const STOPPED_NOTE = 'jobservice: stopped';
/** Past the second of the last action by this much, for the server's clock against ours. */
const SECOND_MARGIN_MS = 50;
/** How long a trigger's answer waits for the schedule to take it (it does within milliseconds unless the server is struggling). */
const TRIGGER_TAKEN_MS = 3_000;
/** How long a stop waits for the schedule to take its pause (it does within milliseconds unless the server is struggling). */
const STOP_TAKES_MS = 5_000;
/** Stopped periodic jobs one stop's sweep reads (describes) at most: the next sweep reads on. */
const SWEEP_BATCH = 100;
/** The fields of an execution's input its job type and the deployment decide (refreshPolicies), its memo's too. */
const POLICY_FIELDS = ['concurrency', 'shortCapMs', 'fanOut', 'abandonOnCancel'] as const;
/** Without a starting deadline, a fire missed by more than this (e.g. while the server was down) is skipped. */
export const DEFAULT_CATCHUP_WINDOW_MS = 60_000;

/** Kubernetes' concurrency policies in Temporal's terms. */
const OVERLAP: Record<NonNullable<PeriodicOptions['concurrency_policy']>, ScheduleOverlapPolicy> = {
  Allow: 'ALLOW_ALL',
  Forbid: 'SKIP',
  Replace: 'CANCEL_OTHER',
};

export interface PeriodicGatewayDeps {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
  timings: JobTimings;
  /** Seals the secrets of the executions' input (`job.sealing_keys`). */
  sealer?: Sealer;
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
      timings: forbidNeverWaitsOnHooks(this.deps.timings, options),
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
          typedSearchAttributes: scheduleSearchAttributes(request.name, JobStatus.Scheduled),
        }),
      ),
    );
    // A new schedule has no executions yet: its stats need the describe (next run times) only.
    const handle = this.deps.client.schedule.getHandle(id);
    return toPeriodicStats(record, await this.rpc(() => handle.describe()), 0);
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

  async stats(id: string): Promise<JobStats> {
    const description = await this.rpc(() => this.deps.client.schedule.getHandle(id).describe());
    const record = periodicRecord(description);
    const [active, lastSuccess, failures] = await Promise.all([
      this.rpc(() => this.deps.client.workflow.count(`${periodicExecutionsQuery(id)} AND ${UNFINISHED_JOBS}`)),
      this.rpc(() => this.lastSuccessfulTime(id)),
      this.rpc(() => consecutiveFailures(this.deps.client, id)),
    ]);
    await this.clearStaleStopMark(id, record.name, description);
    const stats = toPeriodicStats(record, description, active.count);
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

  /**
   * A schedule starts every execution with the input it was created with, and that input carries
   * what the deployment decides rather than the job: the timings (`job.max_run_hours`, the stop
   * grace, hook retries), the type's retry policy, limit, short-job cap and fan-out. Harbor core's
   * schedules (GC, retention, scan-all) live for years: as an API process starts, every periodic
   * job of its task queue whose schedule says otherwise than today's configuration and job types
   * is updated to say the same (the job's own parameters, hook, limits and options untouched, but
   * for secrets sealed under a key that is no longer the first: sealed again under today's).
   * Returns the schedules updated; one that cannot be read or updated is left for the next start.
   */
  async refreshPolicies(): Promise<number> {
    const { client, registry, taskQueue } = this.deps;
    let updated = 0;
    for await (const summary of client.schedule.list({ query: `${JobKindKey.name} = '${JobKind.Periodic}'` })) {
      const record = summary.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
      if (!record || !registry.get(record.name)) continue;
      try {
        const description = await this.rpc(() => client.schedule.getHandle(summary.scheduleId).describe());
        const { action } = description;
        const started = action.type === 'startWorkflow' ? (action.args?.[0] as StartInput | undefined) : undefined;
        // A stopped job never fires again: left as it was stopped (an update would move its die_at).
        if (action.type !== 'startWorkflow' || action.taskQueue !== taskQueue || !started?.name || isStopped(description)) continue;
        const fresh = this.todaysPolicies(started, liveOptions(record.options, description));
        if (canonicalJson(fresh) === canonicalJson(started)) continue;
        if (await this.replaceExecutionInput(summary.scheduleId, description, fresh)) updated += 1;
      } catch {
        // Left as it is until the next start (a schedule deleted meanwhile, sealed with a key this process lacks).
      }
    }
    return updated;
  }

  /**
   * The schedule as described, with only its executions' input (and the policy fields of their
   * memo) replaced, written back under the description's conflict token: a stop, pause or
   * operator's update that lands meanwhile wins, and the scheduler drops this write rather than
   * put back the schedule's state as it was read (the SDK's update sends no token). False when the
   * request itself failed.
   */
  async replaceExecutionInput(scheduleId: string, description: ScheduleDescription, fresh: StartInput): Promise<boolean> {
    const { client } = this.deps;
    const { raw } = description;
    const start = raw.schedule?.action?.startWorkflow;
    if (!raw.schedule || !start) return false;
    const converter = client.options.loadedDataConverter.payloadConverter;
    const fields = { ...(start.memo?.fields ?? {}) };
    const shownPayload = fields[MEMO_INPUT];
    if (shownPayload) {
      const shown = { ...converter.fromPayload<Record<string, unknown>>(shownPayload) };
      const policy = fresh as Record<string, unknown>;
      for (const key of POLICY_FIELDS) {
        if (policy[key] === undefined) delete shown[key];
        else shown[key] = policy[key];
      }
      fields[MEMO_INPUT] = converter.toPayload(shown);
    }
    try {
      await this.rpc(() =>
        client.workflowService.updateSchedule({
          namespace: client.options.namespace,
          scheduleId,
          schedule: {
            ...raw.schedule,
            action: { startWorkflow: { ...start, input: { payloads: [converter.toPayload(fresh)] }, memo: { fields } } },
          },
          conflictToken: raw.conflictToken,
          identity: client.options.identity,
          requestId: randomUUID(),
        }),
      );
      return true;
    } catch {
      // Gone, or the server refused: the next start looks again.
      return false;
    }
  }

  /** An execution input with today's deployment-wide values (see refreshPolicies). */
  private todaysPolicies(started: StartInput, options: Record<string, unknown>): StartInput {
    const { registry, timings } = this.deps;
    const { sealer } = this;
    const input = expandInput(started) as JobInput;
    const { retry, concurrency, shortCapMs } = registry.startPolicy(input.name, sealer.unsealParameters(input.parameters));
    const next: JobInput = {
      // Sealed under a key that is no longer the first (a rotation), or not at all: sealed under today's.
      ...withSecrets(input, sealer.resealParameters, sealer.resealText),
      retry,
      timings: forbidNeverWaitsOnHooks(timings, {
        concurrency_policy: options.concurrency_policy as PeriodicOptions['concurrency_policy'],
      }),
    };
    for (const key of POLICY_FIELDS) delete next[key];
    if (concurrency !== undefined) next.concurrency = concurrency;
    if (shortCapMs !== undefined) next.shortCapMs = shortCapMs;
    if (registry.get(input.name)?.fanOut) next.fanOut = true;
    if (options.concurrency_policy === 'Replace') next.abandonOnCancel = true;
    return compactInput(next);
  }

  /**
   * Harbor's unschedule removes a periodic job; here a stop keeps it readable (`Stopped`), and Harbor
   * core stops and submits anew on every edit of a schedule, so stopped jobs would pile up as
   * paused schedules for ever. Each stop deletes those stopped longer ago than the namespace's
   * retention, as Temporal deletes a finished job's record then (their `die_at` says when).
   * Best effort, `batch` of the list per sweep: the next one reads on.
   */
  async sweepStopped(keepSeconds?: number, batch = SWEEP_BATCH): Promise<number> {
    const keep = keepSeconds ?? (await namespaceRetentionSeconds(this.deps.client));
    if (keep === undefined) return 0;
    const { client } = this.deps;
    const query = `${JobKindKey.name} = '${JobKind.Periodic}' AND ${periodicStatusClause(JobStatus.Stopped)}`;
    const before = Date.now() - keep * 1000;
    // Each sweep reads the next `batch` of the list (the list is cheap, a describe is not): stopped
    // jobs still within their retention at its head must not keep the expired ones behind them for ever.
    const from = this.sweepFrom;
    let at = 0;
    let read = 0;
    let deleted = 0;
    for await (const summary of client.schedule.list({ query, pageSize: 100 })) {
      if (at++ < from) continue;
      if (read >= batch) break;
      read += 1;
      if (!summary.memo?.[MEMO_PERIODIC]) continue;
      const handle = client.schedule.getHandle(summary.scheduleId);
      const description = await this.rpc(() => handle.describe());
      const stoppedAt = description.info.lastUpdatedAt;
      // Another deployment's (a task queue of its own in the same namespace) is its own to sweep.
      const ours = description.action.type === 'startWorkflow' && description.action.taskQueue === this.deps.taskQueue;
      if (!ours || !isStopped(description) || !stoppedAt || stoppedAt.getTime() > before) continue;
      await this.rpc(() => handle.delete());
      deleted += 1;
    }
    // Past the end of the list, the next sweep starts over at its head.
    this.sweepFrom = read >= batch ? from + read - deleted : 0;
    return deleted;
  }

  /** Where the next sweep of stopped jobs reads on (see sweepStopped). */
  private sweepFrom = 0;

  /**
   * stop: never fires again; stats stay readable (the service stops the running executions).
   * `stats` is what the caller has just read of the job (this and the actions below act on it).
   * Resolves with the executions the schedule itself lists as started (running and recent), read
   * once the pause has taken: the update reaches the schedule asynchronously, so a fire can still
   * start meanwhile, and visibility may not show it yet.
   */
  async stop(stats: JobStats): Promise<string[]> {
    const handle = this.deps.client.schedule.getHandle(stats.id);
    if (stats.status !== JobStatus.Stopped) {
      // One update pauses it for good and marks it Stopped for listing (status=Stopped&kind=Periodic).
      let statusHook: string | undefined;
      await this.rpc(() =>
        handle.update((schedule) => {
          // As submitted (the record holds it redacted): what every execution posts to.
          if (schedule.action.type === 'startWorkflow')
            statusHook = (schedule.action.args?.[0] as { statusHook?: string } | undefined)?.statusHook;
          return {
            ...schedule,
            state: { ...schedule.state, paused: true, note: STOPPED_NOTE },
            typedSearchAttributes: scheduleSearchAttributes(stats.name, JobStatus.Stopped),
          };
        }),
      );
      if (statusHook) await this.hookStopped({ ...stats, status: JobStatus.Stopped, update_time: nowSec() }, statusHook);
    } else {
      // A stop repeated after one that marked the job but never started its hook (the API lost
      // Temporal or was killed between the two): core waits for that hook, so it goes now. A hook
      // a stop did start is not sent again.
      const { action } = await this.rpc(() => handle.describe());
      const statusHook =
        action.type === 'startWorkflow' ? (action.args?.[0] as { statusHook?: string } | undefined)?.statusHook : undefined;
      if (statusHook) await this.hookStopped(stats, statusHook, { once: true });
    }
    // Not waited for: a stop answers as soon as it has taken.
    void this.sweepStopped().catch(() => undefined);
    const deadline = Date.now() + STOP_TAKES_MS;
    for (;;) {
      const { state, info } = await this.rpc(() => handle.describe());
      if ((state.paused && state.note === STOPPED_NOTE) || Date.now() > deadline) {
        return [...new Set([...info.runningActions, ...info.recentActions.map((a) => a.action)].map((a) => a.workflow.workflowId))];
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Harbor's jobservice posts Stopped for a periodic job it stops, under the periodic job's own id,
   * and core waits for it (its SCHEDULER execution stays Running until then; an unschedule waits
   * 10 s). Delivered by a HookDelivery workflow, retried as any job's hooks are; one per stop.
   */
  private async hookStopped(stopped: JobStats, url: string, { once = false } = {}): Promise<void> {
    const timings = this.deps.timings.hooks ?? DEFAULT_HOOK_TIMINGS;
    const input: HookDeliveryInput = {
      jobId: stopped.id,
      url,
      timings,
      events: [{ id: `${stopped.id}.stopped`, event: hookEvent(stopped), attempts: 0 }],
    };
    try {
      await this.rpc(() =>
        this.deps.client.workflow.start(HookDelivery, {
          workflowId: `${stopped.id}-hooks-stopped`,
          taskQueue: this.deps.taskQueue,
          args: [input],
          staticSummary: `the Stopped status hook of periodic ${stopped.name} job ${stopped.id}`,
          ...(once ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
        }),
      );
    } catch (err) {
      // Stopped before (a stop, a resume is refused, so only a stop racing this one): its hook is on
      // its way. With `once`, any hook a stop started, delivered or not.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** Seals the executions' input (the record and the memo show it redacted). */
  private get sealer(): Sealer {
    return this.deps.sealer ?? NO_SEALING;
  }

  async pause(stats: JobStats): Promise<void> {
    if (stats.status === JobStatus.Stopped) throw conflict(`periodic job ${stats.id} is stopped`);
    if (stats.paused) return;
    // A job an operator revived from Stopped still carries the mark: a pause clears it, or the
    // paused job would read Stopped.
    await this.rpc(() =>
      this.deps.client.schedule.getHandle(stats.id).update((schedule) => ({
        ...schedule,
        state: { ...schedule.state, paused: true, note: 'paused via the jobservice API' },
        typedSearchAttributes: scheduleSearchAttributes(stats.name, JobStatus.Scheduled),
      })),
    );
  }

  async resume(stats: JobStats): Promise<void> {
    if (stats.status === JobStatus.Stopped) throw conflict(`periodic job ${stats.id} is stopped and cannot resume`);
    if (stats.paused) await this.rpc(() => this.deps.client.schedule.getHandle(stats.id).unpause('resumed via the jobservice API'));
  }

  /**
   * Periodic jobs, newest first. Schedules carry the job's name, kind and status as search
   * attributes, so filters run in visibility like those of other jobs.
   */
  async list(query: ListJobsQuery): Promise<Listed<JobStats>> {
    const clauses = [`${JobKindKey.name} = '${JobKind.Periodic}'`];
    // Values are validated enums or upper-snake names, so they cannot break out of the quotes.
    if (query.name) clauses.push(`${JobNameKey.name} = '${query.name}'`);
    if (query.status) clauses.push(periodicStatusClause(query.status));
    const filter = clauses.join(' AND ');
    const { client } = this.deps;
    const { count } = await this.rpc(() => client.workflow.count(`${SCHEDULER_DIVISION} AND ${filter}`));
    const stale: Promise<void>[] = [];
    const { jobs, nextCursor } = await this.rpc(() =>
      readPage(
        count,
        firstRow(query),
        query.page_size,
        (serverPageSize) => client.schedule.list({ query: filter, pageSize: serverPageSize }),
        (summary) => {
          const record = summary.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
          if (record) stale.push(this.clearStaleStopMark(summary.scheduleId, record.name, summary));
          return record ? summaryStats(record, summary) : undefined;
        },
      ),
    );
    await Promise.all(stale);
    return { total: count, jobs, nextCursor };
  }

  /**
   * A stop marks the schedule Stopped for visibility's filters, and an operator's unpause (`temporal
   * schedule toggle --unpause`) revives the job without clearing the mark; a later operator pause
   * would then list it as Stopped where GET reads a paused Scheduled job. Whichever read first sees
   * a mark its schedule's state no longer bears out clears it. Best effort: a stop racing this one
   * changes the schedule first and the update is refused; the next read tries again.
   */
  private async clearStaleStopMark(
    id: string,
    name: string,
    seen: Pick<ScheduleSummary, 'state' | 'typedSearchAttributes'>,
  ): Promise<void> {
    if (seen.typedSearchAttributes?.get(JobStatusKey) !== JobStatus.Stopped || isStopped(seen)) return;
    await this.rpc(() =>
      this.deps.client.schedule.getHandle(id).update((schedule) => ({
        ...schedule,
        typedSearchAttributes: scheduleSearchAttributes(name, isStopped(schedule) ? JobStatus.Stopped : JobStatus.Scheduled),
      })),
    ).catch(() => undefined);
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
    const last = description.info.recentActions.at(-1);
    const clearMs = last ? (Math.floor(last.scheduledAt.getTime() / 1000) + 1) * 1000 + SECOND_MARGIN_MS - Date.now() : 0;
    if (clearMs > 0) await sleep(Math.min(clearMs, 1000 + SECOND_MARGIN_MS));
    await this.rpc(() => handle.trigger(description.policies.overlap));
    // Answered once the schedule has taken it (started, skipped or buffered by its overlap policy),
    // so that the next trigger sees it above.
    const taken = (d: ScheduleDescription) =>
      d.info.numActionsTaken + d.info.numActionsSkippedOverlap + Number(d.raw.info?.bufferSize ?? 0);
    const before = taken(description);
    const deadline = Date.now() + TRIGGER_TAKEN_MS;
    while (Date.now() < deadline && taken(await this.rpc(() => handle.describe())) <= before) await sleep(50);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return boundedRpc(this.deps.client, fn);
  }
}

/**
 * The server's refusal of a spec the request schema let through (a time zone alias Go does not
 * know in that case), which the SDK throws as a TypeError with the server's reason: a 400.
 */
async function refusedSpecIsBadRequest<T>(created: Promise<T>): Promise<T> {
  try {
    return await created;
  } catch (err) {
    if (err instanceof TypeError) throw badRequest(`metadata: Temporal refused the schedule: ${err.message}`);
    throw err;
  }
}

/** The job a schedule holds; a schedule that is not one of ours is not a job. */
function periodicRecord(description: ScheduleDescription): PeriodicRecord {
  const record = description.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
  if (!record) throw notFound(description.scheduleId);
  return record;
}

/**
 * Schedules live in visibility beside workflows, marked with this division; a deleted schedule's
 * closed record stays until retention, and is no job.
 */
const SCHEDULER_DIVISION = `TemporalNamespaceDivision = 'TemporalScheduler' AND ExecutionStatus = 'Running'`;

export function scheduleSearchAttributes(name: string, status: JobStatus): SearchAttributePair[] {
  return [
    { key: JobNameKey, value: name },
    { key: JobKindKey, value: JobKind.Periodic },
    { key: JobStatusKey, value: status },
  ];
}

/** A listed periodic job: what a schedule summary says (counts and times come with GET /jobs/{id}). */
function summaryStats(record: PeriodicRecord, summary: ScheduleSummary): JobStats {
  const stats = baseStats(record, summary.state.paused && summary.state.note === STOPPED_NOTE);
  stats.paused = summary.state.paused;
  // A list has the schedule's spec but not its policies: the zone and jitter as they are, the rest as submitted.
  const options: Record<string, unknown> = { ...record.options };
  if (summary.spec) withLiveSpec(options, record.options, summary.spec);
  stats.options = options;
  const zone = (options.timezone as string | undefined) ?? 'UTC';
  stats.next_run_times = summary.state.paused ? [] : summary.info.nextActionTimes.slice(0, 5).map((t) => formatInZone(t, zone));
  const last = summary.info.recentActions[summary.info.recentActions.length - 1];
  if (last) stats.last_schedule_time = Math.floor(last.scheduledAt.getTime() / 1000);
  return stats;
}

function isStopped(description: Pick<ScheduleSummary, 'state'>): boolean {
  return description.state.paused && description.state.note === STOPPED_NOTE;
}

/**
 * The visibility filter for a status. A stop pauses the schedule and marks it Stopped in one
 * update; an operator's unpause (`temporal schedule toggle --unpause`) revives the job and leaves
 * the mark, so a Stopped mark counts only while the schedule is paused (`TemporalSchedulePaused`
 * is Temporal's own). GET reads the stop's note, which the schedule's state has at once.
 */
function periodicStatusClause(status: JobStatus): string {
  const marked = `${JobStatusKey.name} = '${JobStatus.Stopped}'`;
  if (status === JobStatus.Stopped) return `(${marked} AND TemporalSchedulePaused = true)`;
  if (status === JobStatus.Scheduled) {
    return `(${JobStatusKey.name} = '${JobStatus.Scheduled}' OR (${marked} AND TemporalSchedulePaused = false))`;
  }
  return `${JobStatusKey.name} = '${status}'`;
}

function toPeriodicStats(record: PeriodicRecord, description: ScheduleDescription, active: number): JobStats {
  const stats = baseStats(record, isStopped(description));
  const options = liveOptions(record.options, description);
  stats.options = options;
  stats.update_time = Math.floor((description.info.lastUpdatedAt ?? description.info.createdAt).getTime() / 1000);
  stats.paused = description.state.paused;
  stats.next_run_times = description.state.paused
    ? []
    : description.info.nextActionTimes.slice(0, 5).map((t) => formatInZone(t, (options.timezone as string | undefined) ?? 'UTC'));
  stats.active = active;
  stats.missed = description.info.numActionsMissedCatchupWindow;
  stats.skipped = description.info.numActionsSkippedOverlap;
  const recent = description.info.recentActions;
  const last = recent[recent.length - 1];
  if (last) stats.last_schedule_time = Math.floor(last.scheduledAt.getTime() / 1000);
  return stats;
}

const K8S_OVERLAP: Partial<Record<string, NonNullable<PeriodicOptions['concurrency_policy']>>> = Object.fromEntries(
  Object.entries(OVERLAP).map(([k8s, temporal]) => [temporal, k8s]),
);

/**
 * The options as the schedule has them now: an operator's `temporal schedule update` (a new
 * overlap policy, catch-up window, zone or jitter) shows here, not the options as submitted. A
 * value the schedule holds as submitted (or as its default) shows as submitted; an overlap
 * policy Kubernetes has no name for shows as Temporal's (`overlap_policy`).
 */
function liveOptions(submitted: PeriodicOptions, description: ScheduleDescription): Record<string, unknown> {
  const options: Record<string, unknown> = { ...submitted };
  const { overlap, catchupWindow } = description.policies;
  if (overlap !== OVERLAP[submitted.concurrency_policy ?? 'Allow']) {
    const named = overlap ? K8S_OVERLAP[overlap] : undefined;
    if (named) options.concurrency_policy = named;
    else {
      delete options.concurrency_policy;
      options.overlap_policy = overlap;
    }
  }
  const deadlineMs = submitted.starting_deadline_seconds ? submitted.starting_deadline_seconds * 1000 : DEFAULT_CATCHUP_WINDOW_MS;
  if (catchupWindow !== deadlineMs) options.starting_deadline_seconds = Math.round(catchupWindow / 1000);
  withLiveSpec(options, submitted, description.spec);
  return options;
}

/** The zone and jitter a schedule's spec has into `options`, where they differ from the submitted ones: none is UTC and no jitter. */
function withLiveSpec(options: Record<string, unknown>, submitted: PeriodicOptions, spec: { timezone?: string; jitter?: number }): void {
  const zone = spec.timezone || 'UTC';
  if (zone !== (submitted.timezone ?? 'UTC')) options.timezone = zone;
  const jitterMs = spec.jitter ?? 0;
  if (jitterMs !== (submitted.jitter_seconds ?? 0) * 1000) options.jitter_seconds = Math.round(jitterMs / 1000);
}

/** What every view of a periodic job shows: as submitted, and whether it is stopped. */
function baseStats(record: PeriodicRecord, stopped: boolean): JobStats {
  const stats: JobStats = {
    id: record.id,
    status: stopped ? JobStatus.Stopped : JobStatus.Scheduled,
    name: record.name,
    kind: JobKind.Periodic,
    unique: false,
    ref_link: refLink(record.id),
    enqueue_time: record.enqueueTime,
    update_time: record.enqueueTime,
    // Records created before parameters were redacted on the way in still hold them raw.
    parameters: redactParameters(record.parameters),
    revision: record.enqueueTime,
    cron_spec: record.cronSpec,
    options: { ...record.options },
  };
  // Records from before hook URLs were redacted on the way in hold them raw.
  if (record.statusHook) stats.web_hook_url = redactText(record.statusHook);
  return stats;
}

/**
 * Forbid skips a fire while the last execution's workflow is open, and a finished execution keeps
 * it open for `hook_drain_ms` while its last hooks fail: under Forbid they go to a HookDelivery
 * workflow at once, so a receiver that is down never holds back the next fire.
 */
function forbidNeverWaitsOnHooks(timings: JobTimings, options: PeriodicOptions): JobTimings {
  if (options.concurrency_policy !== 'Forbid') return timings;
  return { ...timings, hooks: { ...(timings.hooks ?? DEFAULT_HOOK_TIMINGS), drainMs: 0 } };
}

/** The Temporal spec of a periodic job: its translated cron times, in its zone, with its jitter. */
export function scheduleSpec(times: ReturnType<typeof parseCronSpec>, options: PeriodicOptions, now = new Date()): ScheduleSpec {
  // Harbor's cron library counts `@every` from when the job was added, not from the epoch: the phase is now.
  const intervals =
    'intervals' in times ? times.intervals.map((i) => ({ ...i, offset: (Math.floor(now.getTime() / 1000) * 1000) % Number(i.every) })) : [];
  if (options.run_on_startup) intervals.push(startupInterval(now, options.startup_delay ?? 0));
  const calendars = 'calendars' in times ? times.calendars : [];
  return {
    ...times,
    ...(intervals.length > 0 ? { intervals } : {}),
    ...(calendars.length > 0 ? { calendars } : {}),
    ...(options.timezone ? { timezone: options.timezone } : {}),
    ...(options.jitter_seconds ? { jitter: options.jitter_seconds * 1000 } : {}),
  };
}

/**
 * An interval this long matches once in the life of any schedule we make. Fifty years: the server
 * computes no next time for an interval of a hundred (measured on the dev server; 2^31 seconds, 68
 * years, is the likely bound).
 */
const ONE_SHOT_EVERY_MS = 50 * 365 * 86_400_000;

/**
 * run_on_startup: one instant, `startup_delay` seconds on, at a whole second at least a second
 * away (the schedule must exist before it: an instant already past never fires). An interval,
 * not a calendar: intervals count from the epoch whatever the zone, where a calendar's wall-clock
 * fields would match twice in the hour a fall-back day repeats.
 */
function startupInterval(now: Date, delaySeconds: number): { every: number; offset: number } {
  let atMs = Math.ceil((now.getTime() + delaySeconds * 1000) / 1000) * 1000;
  if (atMs - now.getTime() < 1000) atMs += 1000;
  return { every: ONE_SHOT_EVERY_MS, offset: atMs % ONE_SHOT_EVERY_MS };
}

function historyLimits(options: PeriodicOptions): HistoryLimits | undefined {
  const limits: HistoryLimits = {};
  if (options.successful_jobs_history_limit !== undefined) limits.successful = options.successful_jobs_history_limit;
  if (options.failed_jobs_history_limit !== undefined) limits.failed = options.failed_jobs_history_limit;
  return Object.keys(limits).length > 0 ? limits : undefined;
}
