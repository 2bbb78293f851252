import { createHash } from 'node:crypto';
import { QueryNotRegisteredError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import { canonicalJson } from '../shared/canonical-json.js';
import {
  initialState,
  isFinal,
  type JobKind,
  JobStatus,
  RETRYABLE_STATUSES,
  toStats,
  type JobInput,
  type RecordedInput,
  type JobStats,
  type JobTimings,
  OpCommand,
} from '../shared/job-model.js';
import { decodePoolIdentity } from '../shared/pool-identity.js';
import { JOB_WORKFLOW_TYPES, jobsOfTaskQueue, jobStartOptions, jobWorkflowType, type JobWorkflowType } from '../shared/job-start.js';
import { compactInput, expandInput, type StartInput } from '../shared/start-input.js';
import { NO_SEALING, UnsealError, withSecrets, type Sealer } from '../secrets/sealer.js';
import { nowSec } from '../shared/time.js';
import { fanOutTargets, type TargetResult } from '../views/fan-out-targets.js';
import { GenericJob, ScheduledJob } from '../workflows/job-workflow.js';
import { cancelSignal, hookLogQuery, stopSignal } from '../workflows/job-messages.js';
import type { HookRecord } from '../workflows/hook-outbox.js';
import { HANDOVER_IDS, handoverWorkflowId } from '../shared/hook-event.js';
import { NOT_FINAL_STATUS, periodicExecutionsQuery, UNFINISHED_JOBS, UpstreamJobIdKey } from '../shared/search-attributes.js';
import { jobView, reconcile, withLiveRun, type PendingRun } from '../views/job-view.js';
import { ApiError, badRequest, conflict, notFound } from './api-error.js';
import { describeIssues } from './describe-issues.js';
import { boundedRpc } from './bounded-rpc.js';
import { newJobId } from './new-job-id.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';
import { firstRow, readPage, type Listed } from './visibility-page.js';
import type { ListJobsQuery, WorkerPool } from './contract.js';

/** Abandoned runs are few (a job that ignores its stop is a bug); past this many, /stats counts no more. */
const MAX_ABANDONED_LISTED = 1000;
const DESCRIBES_AT_ONCE = 20;
/** How long a retry or a unique resubmit waits for a finished job's workflow to hand its hooks over and close. */
const WIND_UP_WAIT_MS = 10_000;

/** An idle worker long-polls for up to a minute, so a pool is dead only after a longer silence. */
export const POOL_DEAD_AFTER_SECONDS = 90;
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export interface SubmitRequest {
  name: string;
  kind: JobKind;
  parameters: Record<string, unknown>;
  unique: boolean;
  statusHook?: string;
  scheduleDelay?: number;
}

export interface JobGatewayDeps {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
  timings: JobTimings;
  /** See AppOptions.eagerStart. */
  eagerStart?: boolean;
  /** Seals the secrets of a start's input (`job.sealing_keys`); none: they are stored as given. */
  sealer?: Sealer;
}

/** The API's only door to Temporal. Reads need no worker: they come from describe and visibility. */
export class JobGateway {
  constructor(private readonly deps: JobGatewayDeps) {}

  async submit(request: SubmitRequest): Promise<JobStats> {
    const now = nowSec();
    const definition = this.deps.registry.get(request.name);
    const id = request.unique ? uniqueJobId(request.name, request.parameters) : newJobId();
    const input: JobInput = {
      id,
      name: request.name,
      kind: request.kind,
      parameters: request.parameters,
      unique: request.unique,
      enqueueTime: now,
      revision: now,
      ...this.deps.registry.startPolicy(request.name, request.parameters),
      timings: this.deps.timings,
    };
    if (request.statusHook) input.statusHook = request.statusHook;
    if (request.scheduleDelay) input.scheduleDelay = request.scheduleDelay;
    if (definition?.fanOut) input.fanOut = true;
    // A unique job's new run follows its last one: a later revision (hooks and Harbor core order by
    // it, receivers drop repeated event ids), and, as a retry does, one row in every list.
    const previous = request.unique ? await this.closedRun(id) : undefined;
    if (previous) {
      input.revision = Math.max(now, previous.revision + 1);
      input.supersedes = true;
    }
    try {
      await this.start(input, request.unique ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE');
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw conflict(
          request.unique ? `a job ${request.name} with the same parameters is still active: ${id}` : `job id ${id} is already taken`,
          id,
        );
      }
      throw err;
    }
    if (previous) await this.deleteRun(id, previous.runId);
    return toStats(input, initialState(input));
  }

  /**
   * The job's last run once it has closed, or undefined if there is none. A run still open only to
   * deliver its last hooks is wound up first; one whose job is not final makes the start answer 409.
   */
  private async closedRun(id: string): Promise<{ revision: number; runId: string } | undefined> {
    try {
      const { state, status, runId, pending, pendingChildren } = await this.read(id);
      if (status !== 'RUNNING') {
        // Its sub jobs outlive it (a parent close policy of ABANDON): a new run beside them would
        // lose them (a stop would no longer reach them), as a retry would; the same 409.
        await this.refuseWhileChildrenRun(id, state.status);
        return { revision: state.revision, runId };
      }
      if (!isFinal(state.status)) return undefined;
      await this.windUp(id, runId, state.status, pending, pendingChildren);
      return { revision: state.revision, runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err instanceof ApiError && err.status === 404)) return undefined;
      throw err;
    }
  }

  /**
   * A finished job whose workflow stays open to deliver its last hooks (a receiver's outage can
   * last hours) hands them over to HookDelivery and closes, as on a workflow cancel (see the
   * workflow's 'final-job-outlives-cancel'), so a retry or a unique resubmit need not wait for the
   * receiver. Work the job started that still runs is not wound up: a run that ignored its stop (an
   * `executeJob` still out) or child workflows (a fan-out's targets, sub jobs) still open; a new
   * run beside them could run the job's code twice at once.
   */
  private async windUp(
    id: string,
    runId: string,
    status: JobStatus,
    pending: PendingRun[] | null | undefined,
    pendingChildren: number,
  ): Promise<void> {
    if (pending?.some((a) => a.activityType?.name === 'executeJob') || pendingChildren > 0) {
      throw conflict(
        `job ${id} is ${status} but work it started still runs (a run that ignored the stop, or its child jobs); try again once it has returned`,
        id,
      );
    }
    const handle = this.deps.client.workflow.getHandle(id, runId);
    await this.rpc(() => handle.cancel());
    const deadline = Date.now() + WIND_UP_WAIT_MS;
    for (;;) {
      const { status: now } = await this.rpc(() => handle.describe());
      if (now.name !== 'RUNNING') return;
      if (Date.now() >= deadline) throw conflict(`job ${id} is ${status} and still hands over its last hooks; try again shortly`, id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * A closed job's children (a fan-out's targets, sub jobs) are not closed with it: one terminated
   * from outside leaves them running. A retry meanwhile would start them again beside themselves.
   */
  private async refuseWhileChildrenRun(id: string, status: JobStatus): Promise<void> {
    const { count } = await this.rpc(() =>
      this.deps.client.workflow.count(`${UpstreamJobIdKey.name} = '${id}' AND ExecutionStatus = 'Running'`),
    );
    if (count > 0) {
      throw conflict(`job ${id} is ${status} but ${count} of the jobs it started still run; try again once they have ended`, id);
    }
  }

  /**
   * A terminated workflow cannot wait for its run: one that was going keeps working on its worker
   * until a heartbeat finds the workflow gone and the run lets go of its stop (a heartbeat timeout,
   * then the stop grace). A retry before that could run the job twice at once, so it is refused
   * while the closed run's history shows a run that never ended. Short jobs' local runs leave no
   * trace until they end, and their cap bounds them.
   */
  private async refuseWhileOrphanMayRun(id: string, runId: string, closedAt: Date, timings: JobTimings): Promise<void> {
    const leftMs = closedAt.getTime() + timings.heartbeatTimeoutMs + timings.stopGraceMs - Date.now();
    if (leftMs <= 0) return;
    const scheduled = new Set<string>();
    const { client } = this.deps;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.rpc(() =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: client.options.namespace,
          execution: { workflowId: id, runId },
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      for (const event of page.history?.events ?? []) {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeJob') scheduled.add(String(event.eventId));
        else if (attributes) scheduled.delete(String(attributes.scheduledEventId));
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    if (scheduled.size > 0) {
      throw conflict(
        `job ${id} was terminated while its run was going, which may still be working on its worker; try again in ${Math.ceil(leftMs / 1000)} s`,
        id,
      );
    }
  }

  /** Deletes one run of a job (a retried or resubmitted one); best effort, its log lines stay. */
  private async deleteRun(id: string, runId: string): Promise<void> {
    const { client } = this.deps;
    await this.rpc(() =>
      client.workflowService.deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId: id, runId } }),
    ).catch(() => undefined);
  }

  async stats(id: string): Promise<JobStats> {
    const { input, state, status, closeTime } = await this.read(id);
    return this.withDieAt(reconcile(toStats(input, state), status), closeTime, await this.retentionSeconds());
  }

  /** Stop or cancel: a no-op for a finished job, a signal otherwise. `current`: stats the caller already read. */
  async command(id: string, op: OpCommand, current?: JobStats): Promise<void> {
    const stats = current ?? (await this.stats(id));
    if (isFinal(stats.status)) return;
    try {
      await this.rpc(() => this.handle(id).signal(op === 'cancel' ? cancelSignal : stopSignal));
    } catch (err) {
      // The job finished between the read and the signal: nothing left to stop.
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
  }

  /** A new run of the same job id with a new revision, for a job that ended in Error, Stopped or Cancelled. */
  async retry(id: string): Promise<void> {
    const { input: shown, state, status, type, runId, pending, pendingChildren, closeTime } = await this.read(id);
    // The memo's input has its secrets hidden; the run's own input (its first history event) has them.
    const input = await this.startedWith(id, runId, shown);
    const stats = reconcile(toStats(input, state), status);
    if (!RETRYABLE_STATUSES.includes(stats.status)) {
      throw conflict(`job ${id} is ${stats.status}; only jobs in Error, Stopped or Cancelled can be retried`);
    }
    if (status === 'TERMINATED' && closeTime) await this.refuseWhileOrphanMayRun(id, runId, closeTime, input.timings);
    // A retry is a new run of today's job type: its parameters are checked, and it runs under the
    // type's retry policy, limit and cap, as a new submit would.
    const definition = this.deps.registry.get(input.name);
    if (!definition) {
      throw badRequest(`job ${id} cannot be retried: no job named ${JSON.stringify(input.name)} is deployed now`);
    }
    // Sealed in its history (unless it ran before sealing): opened here, sealed again as it starts.
    const { sealer } = this;
    try {
      Object.assign(input, withSecrets(input, sealer.unsealParameters, sealer.unsealText));
    } catch (err) {
      if (!(err instanceof UnsealError)) throw err;
      throw conflict(`job ${id} cannot be retried: ${err.message}`);
    }
    const checked = definition.params.safeParse(input.parameters);
    if (!checked.success) {
      throw badRequest(`job ${id} cannot be retried: today's ${input.name} refuses its parameters: ${describeIssues(checked.error)}`);
    }
    const { concurrency, retry, shortCapMs } = this.deps.registry.startPolicy(input.name, input.parameters);
    const retried: JobInput = { ...input, retry, revision: Math.max(nowSec(), state.revision + 1), supersedes: true };
    delete retried.scheduleDelay;
    delete retried.concurrency;
    delete retried.shortCapMs;
    if (concurrency !== undefined) retried.concurrency = concurrency;
    if (shortCapMs !== undefined) retried.shortCapMs = shortCapMs;
    if (status === 'RUNNING') await this.windUp(id, runId, stats.status, pending, pendingChildren);
    else await this.refuseWhileChildrenRun(id, stats.status);
    if (input.fanOut) {
      // From the children, as reports read them: a run terminated from outside never wrote its
      // results to its memo, and its retry would run again the targets that had succeeded.
      const succeeded = Object.entries(await this.targets(id))
        .filter(([, r]) => r.status === JobStatus.Success)
        .map(([target, { startedAt: _startedAt, ...result }]) => [target, result] as const);
      if (succeeded.length > 0) retried.fanOutDone = Object.fromEntries(succeeded);
    }
    try {
      await this.start(retried, 'ALLOW_DUPLICATE', type);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(`job ${id} is already being retried`);
      throw err;
    }
    // A job is one row in every list: the run it retried goes; the new run counts its own fails,
    // and the old run's lines stay in the job's log.
    await this.deleteRun(id, runId);
  }

  /**
   * The hook log of the job's run and of the HookDelivery workflows its revision handed events to
   * (a second one when a reset re-ran the revision while the first still delivered); the later
   * record of an event wins.
   */
  async hookLog(id: string, revision: number): Promise<HookRecord[]> {
    const read = (workflowId: string) =>
      this.rpc(() => this.deps.client.workflow.getHandle(workflowId).query(hookLogQuery)).catch((err: unknown) => {
        // No hand-over happened, or the run predates the log.
        if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) return undefined;
        throw err;
      });
    const handovers = Array.from({ length: HANDOVER_IDS }, (_, i) => handoverWorkflowId(id, revision, i + 1));
    const [own = [], ...handedOver] = await Promise.all([read(id), ...handovers.map(read)]);
    // An event handed over mid-retry is in both: its outcome is the delivery workflow's, its
    // attempts the job's before the hand-over and the delivery workflow's after.
    const byId = new Map<string, HookRecord>(own.map((r) => [r.id, r]));
    for (const records of handedOver) {
      for (const record of records ?? []) {
        const before = byId.get(record.id);
        // In time order: a reset's re-run and the run it replaced may each have tried the event.
        const attempts = before ? [...before.attempts, ...record.attempts].sort((a, b) => a.at - b.at) : record.attempts;
        byId.set(record.id, { ...record, attempts });
      }
    }
    return [...byId.values()];
  }

  async exists(id: string): Promise<boolean> {
    try {
      await this.read(id);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  async list(query: ListJobsQuery): Promise<Listed<JobStats>> {
    return this.page(this.listQuery(query), firstRow(query), query.page_size);
  }

  /** The executions of a periodic job, running ones first, then the most recently closed. */
  async executions(periodicId: string, pageNumber: number, pageSize: number, runningOnly: boolean) {
    const clauses = [periodicExecutionsQuery(periodicId)];
    if (runningOnly) clauses.push(UNFINISHED_JOBS);
    return this.page(clauses.join(' AND '), (pageNumber - 1) * pageSize, pageSize);
  }

  /**
   * A fan-out job's targets, read from its children (their UpstreamJobId): per target the newest
   * child's job id, status and summary (its last check-in). No second store: this is what
   * /report and /metrics show, whatever the execution's size.
   */
  async targets(executionId: string): Promise<Record<string, TargetResult>> {
    return this.rpc(() => fanOutTargets(this.deps.client, executionId));
  }

  /** A stop of a job that may have been deleted meanwhile (a pruned execution of a periodic job). */
  async stopIfPresent(id: string): Promise<void> {
    try {
      await this.command(id, OpCommand.Stop);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) && !(err instanceof ApiError && err.status === 404)) throw err;
    }
  }

  /** Ids of a periodic job's executions still running. */
  async runningExecutions(periodicId: string): Promise<string[]> {
    const ids: string[] = [];
    const query = `${periodicExecutionsQuery(periodicId)} AND ${UNFINISHED_JOBS}`;
    await this.rpc(async () => {
      for await (const execution of this.deps.client.workflow.list({ query })) ids.push(execution.workflowId);
    });
    return ids;
  }

  private async page(visibilityQuery: string, skip: number, pageSize: number): Promise<Listed<JobStats>> {
    const { client } = this.deps;
    const { count } = await this.rpc(() => client.workflow.count(visibilityQuery));
    const retention = await this.retentionSeconds();
    const { jobs, nextCursor } = await this.rpc(() =>
      readPage(
        count,
        skip,
        pageSize,
        (serverPageSize) => client.workflow.list({ query: visibilityQuery, pageSize: serverPageSize }),
        (execution) => {
          const view = jobView(execution.memo, execution.workflowId, execution.startTime);
          return view
            ? this.withDieAt(reconcile(toStats(view.input, view.state), execution.status.name), execution.closeTime, retention)
            : undefined;
        },
      ),
    );
    return { total: count, jobs, nextCursor };
  }

  /** Worker pools, from the pollers of the job task queue (workflow and activity sides). */
  async pools(): Promise<WorkerPool[]> {
    const { client, taskQueue, registry } = this.deps;
    const describe = (taskQueueType: number) =>
      this.rpc(() =>
        client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        }),
      );
    const [workflowSide, activitySide, abandoned] = await Promise.all([
      describe(TASK_QUEUE_TYPE_WORKFLOW),
      describe(TASK_QUEUE_TYPE_ACTIVITY),
      this.abandonedRunsByPool(),
    ]);
    const pools = new Map<string, WorkerPool>();
    const now = nowSec();
    for (const poller of [...(workflowSide.pollers ?? []), ...(activitySide.pollers ?? [])]) {
      const identity = decodePoolIdentity(poller.identity ?? '');
      if (!identity) continue;
      const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
      const known = pools.get(identity.poolId);
      const heartbeat = Math.max(seconds, known?.heartbeat_at ?? 0);
      pools.set(identity.poolId, {
        worker_pool_id: identity.poolId,
        started_at: identity.startedAt,
        heartbeat_at: heartbeat,
        job_names: registry.names(),
        concurrency: identity.concurrency,
        host: identity.host,
        status: poolHealth(heartbeat, now),
        abandoned_runs: abandoned.get(identity.poolId) ?? 0,
      });
    }
    return [...pools.values()].sort((a, b) => a.started_at - b.started_at);
  }

  /**
   * Runs that ignored a stop still hold a worker slot: their job is final (Stopped, Cancelled) but
   * its workflow stays open until the run returns, with the run as its pending activity, which
   * names the worker it runs on.
   */
  private async abandonedRunsByPool(): Promise<Map<string, number>> {
    const { client, taskQueue } = this.deps;
    const query = `${jobsOfTaskQueue(taskQueue)} AND ExecutionStatus = 'Running' AND JobStatus IN ('Stopped', 'Cancelled')`;
    const byPool = new Map<string, number>();
    // What a pool's slots hold is extra information: /stats answers without it rather than fail.
    const executions = await this.rpc(async () => {
      const found: { workflowId: string; runId: string }[] = [];
      for await (const e of client.workflow.list({ query, pageSize: 100 })) {
        if (found.push({ workflowId: e.workflowId, runId: e.runId }) >= MAX_ABANDONED_LISTED) break;
      }
      return found;
    }).catch(() => []);
    for (let at = 0; at < executions.length; at += DESCRIBES_AT_ONCE) {
      const batch = executions.slice(at, at + DESCRIBES_AT_ONCE);
      const described = await Promise.all(
        batch.map((e) => this.rpc(() => client.workflow.getHandle(e.workflowId, e.runId).describe()).catch(() => undefined)),
      );
      for (const description of described) {
        // Only the job's own run holds a job slot; its hook deliveries and housekeeping do not.
        for (const activity of description?.raw.pendingActivities ?? []) {
          if (activity.activityType?.name !== 'executeJob') continue;
          const pool = decodePoolIdentity(activity.lastWorkerIdentity ?? '');
          if (pool) byPool.set(pool.poolId, (byPool.get(pool.poolId) ?? 0) + 1);
        }
      }
    }
    return byPool;
  }

  private async read(id: string) {
    const description = await this.rpc(() => this.handle(id).describe());
    const view = jobView(description.memo, description.workflowId, description.startTime);
    if (!(JOB_WORKFLOW_TYPES as readonly string[]).includes(description.type) || !view) throw notFound(id);
    const { payloadConverter } = this.deps.client.options.loadedDataConverter;
    const pending = description.raw.pendingActivities as PendingRun[] | null | undefined;
    const state = withLiveRun(view.state, pending, (payload) =>
      payloadConverter.fromPayload(payload as Parameters<typeof payloadConverter.fromPayload>[0]),
    );
    return {
      ...view,
      state,
      status: description.status.name,
      type: description.type as JobWorkflowType,
      runId: description.runId,
      closeTime: description.closeTime,
      pending,
      pendingChildren: description.raw.pendingChildren?.length ?? 0,
    };
  }

  /** The input a run was started with, as its first history event holds it. */
  private async startedWith(id: string, runId: string, fallback: RecordedInput): Promise<Omit<JobInput, 'retry'>> {
    const { client } = this.deps;
    const history = await this.rpc(() =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: id, runId },
        maximumPageSize: 1,
      }),
    );
    const payload = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    // The memo leaves out the timings (the run's own, else today's) and the retry policy (the caller sets today's).
    if (!payload) return { ...fallback, timings: this.deps.timings };
    const started = client.options.loadedDataConverter.payloadConverter.fromPayload<StartInput>(payload);
    // An execution of a periodic job starts with the schedule's template; its id and times are its own.
    // A start argument leaves out the timings at their defaults: those are the run's own too.
    return {
      ...fallback,
      parameters: started.parameters,
      ...(started.statusHook ? { statusHook: started.statusHook } : {}),
      timings: expandInput(started).timings,
    };
  }

  /** A finished job's record is Temporal's until the namespace's retention runs out: that is when it dies. */
  private withDieAt(stats: JobStats, closeTime: Date | undefined, retentionSeconds: number | undefined): JobStats {
    if (!closeTime || retentionSeconds === undefined) return stats;
    return { ...stats, die_at: Math.floor(closeTime.getTime() / 1000) + retentionSeconds };
  }

  private retentionSeconds(): Promise<number | undefined> {
    return namespaceRetentionSeconds(this.deps.client);
  }

  private get sealer(): Sealer {
    return this.deps.sealer ?? NO_SEALING;
  }

  /**
   * `input` as given (the memo shows it redacted); its start argument with its secrets sealed.
   * `type`: a retry keeps the workflow type of the run it retries.
   */
  private async start(input: JobInput, reuse: 'ALLOW_DUPLICATE' | 'REJECT_DUPLICATE', type = jobWorkflowType(input.kind)) {
    const options = jobStartOptions(input);
    const { sealer } = this;
    const sealed = withSecrets(input, sealer.sealParameters, sealer.sealText);
    // Most jobs have nothing to seal: their start argument is the one already built.
    if (sealed !== input) options.args = [compactInput(sealed)];
    await this.rpc(() =>
      this.deps.client.workflow.start(type === 'GenericJob' ? GenericJob : ScheduledJob, {
        taskQueue: this.deps.taskQueue,
        workflowIdReusePolicy: reuse,
        workflowIdConflictPolicy: 'FAIL',
        ...(this.deps.eagerStart ? { requestEagerStart: true } : {}),
        ...options,
      }),
    );
  }

  private listQuery(query: ListJobsQuery): string {
    // A run that continued as new (a long fan-out) is not a job of its own: its execution goes on.
    const clauses = [jobsOfTaskQueue(this.deps.taskQueue), `ExecutionStatus != 'ContinuedAsNew'`];
    // Values are validated enums or upper-snake names, so they cannot break out of the quotes.
    if (query.name) clauses.push(`JobName = '${query.name}'`);
    if (query.kind) clauses.push(`JobKind = '${query.kind}'`);
    if (query.status) clauses.push(statusClause(query.status));
    return clauses.join(' AND ');
  }

  private handle(id: string) {
    return this.deps.client.workflow.getHandle(id);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return boundedRpc(this.deps.client, fn);
  }
}

/** A pool that has not polled for longer than an idle long poll lasts is taken as gone. */
export function poolHealth(heartbeatAt: number, now: number): 'Healthy' | 'Dead' {
  return now - heartbeatAt <= POOL_DEAD_AFTER_SECONDS ? 'Healthy' : 'Dead';
}

/**
 * The visibility filter for a status, as `reconcile` reads a row: the job's own status once it is
 * final (a workflow closed from outside after that, while it drained its hooks or outlived an
 * abandoned run, keeps it), and the execution's status for a workflow closed before its job was.
 */
function statusClause(status: JobStatus): string {
  const closedEarly = (executionStatuses: string) => `(ExecutionStatus IN (${executionStatuses}) AND ${NOT_FINAL_STATUS})`;
  switch (status) {
    case JobStatus.Stopped:
      return `(JobStatus = 'Stopped' OR ${closedEarly(`'Terminated'`)})`;
    case JobStatus.Cancelled:
      return `(JobStatus = 'Cancelled' OR ${closedEarly(`'Canceled'`)})`;
    case JobStatus.Error:
      return `(JobStatus = 'Error' OR ${closedEarly(`'Failed', 'TimedOut'`)})`;
    case JobStatus.Success:
      return `(JobStatus = 'Success' OR ${closedEarly(`'Completed'`)})`;
    default:
      return `(JobStatus = '${status}' AND ExecutionStatus = 'Running')`;
  }
}

/** A unique job's id follows from its name and parameters, so Temporal itself is the lock. */
export function uniqueJobId(name: string, parameters: Record<string, unknown>): string {
  return createHash('sha256')
    .update(`${name}\n${canonicalJson(parameters)}`)
    .digest('hex')
    .slice(0, 24);
}
