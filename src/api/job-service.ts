import { WorkflowNotFoundError } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import { openLogTail } from '../logs/log-reader.js';
import { followLog } from '../logs/log-follow.js';
import { jobLogPath } from '../logs/job-log-path.js';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { JOB_ID_PATTERN } from '../shared/job-id.js';
import { isFinal, JobKind, OpCommand, type JobStats } from '../shared/job-model.js';
import { ApiError, ErrorCode, badRequest, conflict, notFound } from './api-error.js';
import {
  KNOWN_ACTIONS,
  PERIODIC_OPTIONS,
  type JobAction,
  type JobRequest,
  type ListJobsQuery,
  type ExecutionsQuery,
  type WorkerPool,
  type QueueRow,
  type HookLog,
  type JobReport,
} from './contract.js';
import { openBatchFile } from '../jobs/batch/batch-files.js';
import type { TargetSummary } from '../jobs/batch/define-batch-job.js';
import { parseSummary } from '../shared/fan-out.js';
import { describeIssues } from './describe-issues.js';
import type { JobGateway } from './job-gateway.js';
import type { PeriodicGateway } from './periodic-gateway.js';
import type { QueueGateway } from './queue-gateway.js';
import type { HookAllowList } from '../hooks/hook-allow-list.js';
import type { QueueAction } from '../shared/job-queue.js';
import type { Listed } from './visibility-page.js';
import type { BackgroundWork } from '../process/background-work.js';

export interface JobServiceDeps {
  gateway: JobGateway;
  queues: QueueGateway;
  periodic: PeriodicGateway;
  registry: JobRegistry;
  /** The FILE job logger's directory; without it there are no logs to serve. */
  logDir?: string;
  maxLogBytes: number;
  hookAllowList: HookAllowList;
  /** The API's unawaited work: a log follow's reads of its job go on after its handler has answered. */
  background: BackgroundWork;
}

/**
 * What the API does, in job terms: whether a job is a workflow (job, execution) or a schedule
 * (periodic job) is decided here, so the routes only translate HTTP.
 */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  async submit({ name, parameters: given, status_hook, metadata }: JobRequest['job']): Promise<JobStats> {
    const { registry, periodic, gateway } = this.deps;
    const parameters = given ?? {};
    const definition = registry.get(name);
    if (!definition) throw badRequest(`job.name: no job named ${JSON.stringify(name)}; known jobs: ${registry.names().join(', ')}`);
    const checked = definition.params.safeParse(parameters);
    if (!checked.success) throw badRequest(`job.parameters: ${describeIssues(checked.error)}`);
    const statusHook = status_hook || undefined;
    const refused = statusHook ? await this.deps.hookAllowList.refuse(statusHook) : undefined;
    if (refused) throw badRequest(`job.status_hook: ${refused}`);
    if (metadata.kind === JobKind.Periodic) {
      const options = Object.fromEntries(PERIODIC_OPTIONS.flatMap((o) => (metadata[o] === undefined ? [] : [[o, metadata[o]]])));
      // The request schema has checked that a Periodic job has a cron spec.
      return periodic.create({ name, parameters, statusHook, cronSpec: metadata.cron_spec!, options });
    }
    return gateway.submit({
      name,
      kind: metadata.kind,
      parameters,
      unique: metadata.unique ?? false,
      statusHook,
      // Harbor ignores a delay on a Generic job (see checkMetadataForKind).
      scheduleDelay: metadata.kind === JobKind.Scheduled ? metadata.schedule_delay : undefined,
    });
  }

  /** A job's stats, whether it is a workflow (job, execution) or a schedule (periodic job). */
  async stats(id: string): Promise<JobStats> {
    try {
      return await this.deps.gateway.stats(id);
    } catch (err) {
      if (!isNotFound(err) || !JOB_ID_PATTERN.test(id)) throw err;
      const found = await this.deps.periodic.find(id);
      if (!found) throw err;
      return found;
    }
  }

  /** Periodic jobs are schedules, not workflows: they are listed on their own. */
  list(query: ListJobsQuery): Promise<Listed<JobStats>> {
    return query.kind === JobKind.Periodic ? this.deps.periodic.list(query) : this.deps.gateway.list(query);
  }

  async executions(id: string, { page_number, page_size, non_dead_only }: ExecutionsQuery) {
    const stats = await this.stats(id);
    if (stats.kind !== JobKind.Periodic) throw badRequest(`job ${id} is ${stats.kind}; only Periodic jobs have executions`);
    return this.deps.gateway.executions(id, page_number, page_size, non_dead_only);
  }

  async act(id: string, action: string): Promise<void> {
    if (!isKnownAction(action)) {
      throw new ApiError(
        501,
        ErrorCode.UnknownActionName,
        'unknown action',
        `action ${JSON.stringify(action)} is not one of ${KNOWN_ACTIONS.join(', ')}`,
      );
    }
    const stats = await this.stats(id);
    if (stats.kind === JobKind.Periodic) return this.actOnPeriodic(stats, action);
    const { gateway } = this.deps;
    switch (action) {
      case 'stop':
        return gateway.command(id, OpCommand.Stop, stats);
      case 'cancel':
        return gateway.command(id, OpCommand.Cancel, stats);
      case 'retry':
        if (stats.kind === JobKind.Scheduled && stats.upstream_job_id) await this.refuseOverlappingRetry(stats, stats.upstream_job_id);
        return gateway.retry(id);
      default:
        throw badRequest(`action ${action} applies to Periodic jobs only; job ${id} is ${stats.kind}`);
    }
  }

  /**
   * A retried periodic execution runs beside its job's other executions, which the schedule does
   * not know of: under Forbid or Replace it waits until none runs (an older fire's retry does not
   * replace a newer fire either).
   */
  private async refuseOverlappingRetry(execution: JobStats, periodicId: string): Promise<void> {
    const overlap = await this.deps.periodic.overlapPolicy(periodicId);
    if (overlap === undefined || overlap === 'ALLOW_ALL') return;
    const running = (await this.deps.gateway.runningExecutions(periodicId)).filter((id) => id !== execution.id);
    if (running.length === 0) return;
    const policy = overlap === 'SKIP' ? 'Forbid' : overlap === 'CANCEL_OTHER' ? 'Replace' : overlap;
    throw conflict(
      `execution ${execution.id} cannot be retried now: its periodic job ${periodicId} has concurrency_policy ${policy} and its execution ${running[0]} is running`,
    );
  }

  private async actOnPeriodic(stats: JobStats, action: JobAction): Promise<void> {
    const { periodic, gateway } = this.deps;
    switch (action) {
      case 'stop':
      case 'cancel': {
        // A stopped periodic job never fires again, and its running executions are stopped.
        const started = await periodic.stop(stats);
        const running = await gateway.runningExecutions(stats.id);
        for (const execution of new Set([...running, ...started])) await gateway.stopIfPresent(execution);
        return;
      }
      case 'pause':
        return periodic.pause(stats);
      case 'resume':
        return periodic.resume(stats);
      case 'trigger':
        return periodic.trigger(stats);
      case 'retry':
        throw conflict(`periodic job ${stats.id} cannot be retried; trigger runs it now`);
    }
  }

  async log(id: string): Promise<{ body: ReadableStream<Uint8Array>; length: number }> {
    const { logDir, maxLogBytes, gateway } = this.deps;
    if (!logDir) throw notFound(`no FILE job logger is configured, so job ${id} has no log to read`);
    const log = await openLogTail(logDir, id, maxLogBytes);
    if (log !== undefined) return log;
    throw notFound((await gateway.exists(id)) ? `job ${id} has not written a log yet` : id);
  }

  /** The log's tail, then the log as it grows, until the job has ended. */
  async followLog(id: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const { logDir, maxLogBytes } = this.deps;
    if (!logDir) throw notFound(`no FILE job logger is configured, so job ${id} has no log to read`);
    // A job Temporal no longer has (retention, an operator) whose log is still on disk has ended:
    // its log is served as without follow.
    const stats = await this.stats(id).catch((err: unknown) => {
      if (isNotFound(err) && existsSync(jobLogPath(logDir, id) ?? '')) return undefined;
      throw err;
    });
    if (!stats) return (await this.log(id)).body;
    if (stats.kind === JobKind.Periodic)
      throw badRequest(`job ${id} is periodic: follow one of its executions (GET /jobs/${id}/executions)`);
    // From the same tail as without follow (a log not written yet is waited for), then as it grows.
    const path = jobLogPath(logDir, id);
    const size = path
      ? await stat(path).then(
          (s) => s.size,
          () => 0,
        )
      : 0;
    // A job that has ended without a log will not write one: as without follow, there is none.
    if (isFinal(stats.status) && !(path && existsSync(path))) throw notFound(`job ${id} has not written a log`);
    const from = maxLogBytes > 0 ? Math.max(0, size - maxLogBytes) : 0;
    // The stream outlives its handler: each read of the job is the API's background work, which
    // its close waits for, and the close ends the follow.
    const { background } = this.deps;
    return followLog({
      dir: logDir,
      jobId: id,
      from,
      // A job Temporal no longer has (deleted meanwhile: a history limit of 0, an operator) has ended too.
      ended: async () =>
        background.signal.aborted ||
        (await background.track(this.stats(id)).then(
          (now) => isFinal(now.status),
          (err: unknown) => {
            if (isNotFound(err)) return true;
            throw err;
          },
        )),
      signal: signal ? AbortSignal.any([signal, background.signal]) : background.signal,
    });
  }

  /** A job's status hook events with their attempts, from the job's workflow and the HookDelivery that took over. */
  async hooks(id: string): Promise<HookLog> {
    const stats = await this.stats(id);
    if (stats.kind === JobKind.Periodic)
      throw badRequest(`job ${id} is periodic: its executions send the hooks (GET /jobs/${id}/executions)`);
    return {
      job_id: stats.id,
      status_hook: stats.web_hook_url ?? null,
      events: stats.web_hook_url ? await this.deps.gateway.hookLog(stats.id, stats.revision) : [],
    };
  }

  /** A fan-out job's report, from its results: per target the child job, its status and its summary. */
  async report(id: string): Promise<JobReport> {
    const stats = await this.stats(id);
    // A fan-out job that has not planned yet (Scheduled, or its listing failed) has no targets yet: a report of none.
    const fansOut = stats.kind !== JobKind.Periodic && this.deps.registry.get(stats.name)?.fanOut !== undefined;
    if (!stats.results && !fansOut)
      throw badRequest(`job ${id} (${stats.name}) is not a batch or fan-out job (a periodic one: see its executions)`);
    const targets = Object.fromEntries(
      Object.entries(await this.deps.gateway.targets(id)).map(([target, r]) => {
        const summary = (r.summary ?? {}) as Partial<TargetSummary>;
        return [
          target,
          { job_id: r.job_id, status: r.status, results: summary.report ?? {}, events: summary.events ?? [], files: summary.files ?? [] },
        ];
      }),
    );
    const progress = parseSummary(stats.check_in);
    return { job_id: stats.id, status: stats.status, ...(progress ? { progress } : {}), targets };
  }

  async file(id: string, name: string): Promise<{ body: ReadableStream<Uint8Array>; length: number }> {
    const { logDir, gateway } = this.deps;
    if (!logDir) throw notFound(`no FILE job logger is configured, so job ${id} has no files`);
    const file = await openBatchFile(logDir, id, name);
    if (file !== undefined) return file;
    throw notFound((await gateway.exists(id)) ? `job ${id} has no file ${name}` : id);
  }

  async pools(): Promise<WorkerPool[]> {
    const pools = await this.deps.gateway.pools();
    if (pools.length === 0) throw new ApiError(503, ErrorCode.CheckStats, 'no worker pool', 'no worker is polling the job task queue');
    return pools;
  }

  queues(): Promise<QueueRow[]> {
    return this.deps.queues.list();
  }

  actOnQueue(jobType: string, action: QueueAction): Promise<QueueRow[]> {
    return this.deps.queues.act(jobType, action);
  }
}

function isKnownAction(action: string): action is JobAction {
  return (KNOWN_ACTIONS as readonly string[]).includes(action);
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof ApiError && err.status === 404);
}
