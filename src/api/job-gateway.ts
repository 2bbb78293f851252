import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import {
  initialState,
  isFinal,
  type JobKind,
  JobStatus,
  RETRYABLE_STATUSES,
  toStats,
  type JobInput,
  type JobStats,
  type JobTimings,
  OpCommand,
} from '../shared/job-model.js';
import { jobStartOptions, jobWorkflowType } from '../shared/job-start.js';
import { compactInput } from '../shared/start-input.js';
import { NO_SEALING, UnsealError, withSecrets, type Sealer } from '../secrets/sealer.js';
import { nowSec } from '../shared/time.js';
import { summaryScalars } from '../shared/fan-out.js';
import { fanOutTargets, type TargetResult } from '../views/fan-out-targets.js';
import { GenericJob, ScheduledJob } from '../workflows/job-workflow.js';
import { cancelSignal, stopSignal } from '../workflows/job-messages.js';
import type { HookRecord } from '../workflows/hook-outbox.js';
import { periodicExecutionsQuery, UNFINISHED_JOBS } from '../shared/search-attributes.js';
import { reconcile } from '../views/job-view.js';
import { ApiError, badRequest, conflict } from './api-error.js';
import { describeIssues } from './describe-issues.js';
import { boundedRpc } from './bounded-rpc.js';
import { newJobId } from './new-job-id.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';
import { firstRow, type Listed } from './visibility-page.js';
import type { ListJobsQuery, WorkerPool } from './contract.js';
import { jobPage, listQuery, runningExecutions, withDieAt } from './job-lists.js';
import { readJob, startedWith } from './job-reads.js';
import { hookLog } from './hook-log-read.js';
import {
  deleteRun,
  passOnForClosed,
  passOnToRunningChildren,
  refuseWhileChildrenRun,
  refuseWhileOrphanMayRun,
  windUp,
} from './job-wind-up.js';
import { uniqueJobId } from './unique-job-id.js';
import { workerPools } from './worker-pools.js';

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
    const id = request.unique ? uniqueJobId(request.name, request.parameters, this.sealer) : newJobId();
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
    const previous = request.unique ? await this.closedRun(id, request.name) : undefined;
    if (previous) {
      input.revision = Math.max(now, previous.revision + 1);
      input.supersedes = true;
    }
    try {
      await this.start(input, request.unique ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE');
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw request.unique ? stillActive(request.name, id) : conflict(`job id ${id} is already taken`, id);
      }
      throw err;
    }
    if (previous) await deleteRun(this.deps.client, id, previous.runId);
    return toStats(input, initialState(input));
  }

  /**
   * The job's last run once it has closed, or undefined if there is none. A run still open only to
   * deliver its last hooks is wound up first; one whose job is not final is a 409 here, not left to
   * the start to find: closing in between, it would let the start through as a first run (its
   * revision not after the last one's, and the last run not deleted: two rows).
   */
  private async closedRun(id: string, name: string): Promise<{ revision: number; runId: string } | undefined> {
    try {
      const { input: shown, state, status, runId, pending, pendingChildren, closeTime } = await readJob(this.deps.client, id);
      if (status !== 'RUNNING') {
        // Its sub jobs outlive it (a parent close policy of ABANDON): a new run beside them would
        // lose them (a stop would no longer reach them), as a retry would; the same 409.
        await refuseWhileChildrenRun(this.deps.client, id, state.status);
        // A run terminated by an operator may still work on its worker until a heartbeat finds it
        // gone: a new run now would run the job twice at once, as a retry would; the same 409.
        if (status === 'TERMINATED' && closeTime) {
          const { timings } = await startedWith(this.deps.client, this.deps.timings, id, runId, shown);
          await refuseWhileOrphanMayRun(this.deps.client, id, runId, closeTime, timings);
        }
        return { revision: state.revision, runId };
      }
      if (!isFinal(state.status)) throw stillActive(name, id);
      await windUp(this.deps.client, id, runId, state.status, pending, pendingChildren);
      return { revision: state.revision, runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err instanceof ApiError && err.status === 404)) return undefined;
      throw err;
    }
  }

  async stats(id: string): Promise<JobStats> {
    const { input, state, status, closeTime } = await readJob(this.deps.client, id);
    return withDieAt(reconcile(toStats(input, state), status, closeTime), closeTime, await namespaceRetentionSeconds(this.deps.client));
  }

  /** Stop or cancel: a no-op for a finished job, a signal otherwise. `current`: stats the caller already read. */
  async command(id: string, op: OpCommand, current?: JobStats): Promise<void> {
    const stats = current ?? (await this.stats(id));
    if (isFinal(stats.status)) return passOnForClosed(this.deps.client, id, op);
    try {
      await this.rpc(() => this.handle(id).signal(op === 'cancel' ? cancelSignal : stopSignal));
    } catch (err) {
      // The job finished between the read and the signal: nothing left to stop.
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    await passOnToRunningChildren(this.deps.client, id, op);
  }

  /** A new run of the same job id with a new revision, for a job that ended in Error, Stopped or Cancelled. */
  async retry(id: string): Promise<void> {
    const { input: shown, state, status, type, runId, pending, pendingChildren, closeTime } = await readJob(this.deps.client, id);
    // The memo's input has its secrets hidden; the run's own input (its first history event) has them.
    const input = await startedWith(this.deps.client, this.deps.timings, id, runId, shown);
    const stats = reconcile(toStats(input, state), status, closeTime);
    if (!RETRYABLE_STATUSES.includes(stats.status)) {
      throw conflict(`job ${id} is ${stats.status}; only jobs in Error, Stopped or Cancelled can be retried`);
    }
    if (status === 'TERMINATED' && closeTime) await refuseWhileOrphanMayRun(this.deps.client, id, runId, closeTime, input.timings);
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
    const retriedAt = nowSec();
    const retried: JobInput = { ...input, retry, revision: Math.max(retriedAt, state.revision + 1), retriedAt, supersedes: true };
    // It runs now; a Scheduled job keeps a run_at, as Harbor's reset keeps it (never a time still to come).
    if (stats.run_at !== undefined) retried.runAt = Math.min(stats.run_at, retriedAt);
    delete retried.scheduleDelay;
    delete retried.concurrency;
    delete retried.shortCapMs;
    if (concurrency !== undefined) retried.concurrency = concurrency;
    if (shortCapMs !== undefined) retried.shortCapMs = shortCapMs;
    if (status === 'RUNNING') await windUp(this.deps.client, id, runId, stats.status, pending, pendingChildren);
    else await refuseWhileChildrenRun(this.deps.client, id, stats.status);
    if (input.fanOut) {
      // From the children, as reports read them: a run terminated from outside never wrote its
      // results to its memo, and its retry would run again the targets that had succeeded.
      // What the job's own run keeps of each (its summary's scalars): a batch target's report stays
      // with its job, or thousands of them would pass Temporal's 2 MB for the start and the memo.
      const succeeded = Object.entries(await this.targets(id))
        .filter(([, r]) => r.status === JobStatus.Success)
        .map(([target, { job_id, status, summary }]) => {
          const kept = summaryScalars(summary);
          return [target, kept ? { job_id, status, summary: kept } : { job_id, status }] as const;
        });
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
    await deleteRun(this.deps.client, id, runId);
  }

  /** The hook log of the job's run and of the HookDelivery workflows its revision handed events to. */
  async hookLog(id: string, revision: number): Promise<HookRecord[]> {
    return hookLog(this.deps.client, id, revision);
  }

  async exists(id: string): Promise<boolean> {
    try {
      await readJob(this.deps.client, id);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  async list(query: ListJobsQuery): Promise<Listed<JobStats>> {
    return jobPage(this.deps.client, listQuery(this.deps.taskQueue, query), firstRow(query), query.page_size);
  }

  /** The executions of a periodic job, running ones first, then the most recently closed. */
  async executions(periodicId: string, pageNumber: number, pageSize: number, runningOnly: boolean) {
    const clauses = [periodicExecutionsQuery(periodicId)];
    if (runningOnly) clauses.push(UNFINISHED_JOBS);
    return jobPage(this.deps.client, clauses.join(' AND '), (pageNumber - 1) * pageSize, pageSize);
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
    return runningExecutions(this.deps.client, periodicId);
  }

  /** Worker pools, from the pollers of the job task queue (workflow and activity sides). */
  async pools(): Promise<WorkerPool[]> {
    const { client, taskQueue, registry } = this.deps;
    return workerPools(client, taskQueue, registry);
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

  private handle(id: string) {
    return this.deps.client.workflow.getHandle(id);
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return boundedRpc(this.deps.client, fn);
  }
}

function stillActive(name: string, id: string): ApiError {
  return conflict(`a job ${name} with the same parameters is still active: ${id}`, id);
}
