import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import { controlQueue, readQueueGate } from '../queues/queue-client.js';
import { GATE_SETTLE_MS, QueueAction } from '../shared/job-queue.js';
import { jobsOfTaskQueue } from '../shared/job-start.js';
import { JobNameKey, waitingJobs } from '../shared/search-attributes.js';
import { JobStatus } from '../shared/job-model.js';
import { jobView } from '../views/job-view.js';
import { notFound } from './api-error.js';
import { boundedRpc } from './bounded-rpc.js';
import type { QueueRow } from './contract.js';

/** Up to this many pending jobs, the oldest is found by listing them; beyond, by counting (binary search on StartTime). */
const LIST_OLDEST_UP_TO = 1000;

export interface QueueGatewayDeps {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
}

/**
 * Job queues per type, as Harbor 2.7's dashboard shows them: counts from visibility, the pause
 * from the type's JobQueue workflow, the limit from the registry. Nothing is stored here.
 */
export class QueueGateway {
  constructor(private readonly deps: QueueGatewayDeps) {}

  async list(): Promise<QueueRow[]> {
    return Promise.all(this.deps.registry.names().map((type) => this.row(type)));
  }

  /**
   * pause and resume go to the type's queue workflow; stop also sets the queue's fence (no run
   * pending before it ever starts) and then stops the type's pending and running jobs with one
   * Temporal batch operation, so the API's cost does not grow with the backlog.
   */
  async act(jobType: string, action: QueueAction): Promise<QueueRow[]> {
    const { client, taskQueue, registry } = this.deps;
    const types = jobType === 'all' ? registry.names() : [jobType];
    if (!registry.get(types[0]!)) throw notFound(`no job type ${jobType}; known: ${registry.names().join(', ')}, or all`);
    const controlled = await Promise.all(types.map((type) => this.rpc(() => controlQueue(client, taskQueue, type, action))));
    // Workers act on what they read of a queue for up to GATE_CACHE_MS: past that, every one sees this.
    await new Promise((resolve) => setTimeout(resolve, GATE_SETTLE_MS));
    if (action === QueueAction.Stop)
      await this.stopJobs(types.map((type, i) => ({ type, fenceMs: controlled[i]!.fence_ms ?? Date.now() })));
    return Promise.all(types.map((type) => this.row(type)));
  }

  private async row(jobType: string): Promise<QueueRow> {
    const { client, taskQueue, registry } = this.deps;
    const jobs = this.jobsOf([jobType]);
    // Harbor's queue holds a delayed job once it is due, until a worker takes it: so does its count.
    const pendingQuery = `${jobs} AND ${waitingJobs(Date.now())}`;
    const [gate, pending, running] = await Promise.all([
      this.rpc(() => readQueueGate(client, taskQueue, jobType)),
      this.rpc(() => client.workflow.count(pendingQuery)),
      this.rpc(() => client.workflow.count(`${jobs} AND JobStatus = 'Running'`)),
    ]);
    const oldest = pending.count > 0 ? await this.oldestPending(pendingQuery, pending.count) : undefined;
    return {
      job_type: jobType,
      count: pending.count,
      running: running.count,
      latency: oldest === undefined ? 0 : Math.max(0, Math.floor(Date.now() / 1000 - oldest)),
      paused: gate?.paused ?? false,
      concurrency_limit: registry.concurrencyLimit(jobType) ?? null,
    };
  }

  /** Open jobs of these types in this deployment. */
  private jobsOf(types: string[]): string {
    // Types are registered upper-snake names, so they cannot break out of the quotes.
    const names = types.map((t) => `'${t}'`).join(', ');
    return `${jobsOfTaskQueue(this.deps.taskQueue)} AND ExecutionStatus = 'Running' AND JobName IN (${names})`;
  }

  /** Unix seconds when the longest-waiting pending job became pending. */
  private async oldestPending(query: string, count: number): Promise<number> {
    const { client } = this.deps;
    if (count <= LIST_OLDEST_UP_TO) {
      let oldest = Infinity;
      await this.rpc(async () => {
        for await (const execution of client.workflow.list({ query, pageSize: LIST_OLDEST_UP_TO })) {
          const view = jobView(execution.memo, execution.workflowId, execution.startTime);
          // A retried job is pending since its new revision began, not since it was submitted; a
          // delayed one since it came due.
          const state = view?.state;
          const since = state?.status === JobStatus.Scheduled ? state.run_at : state?.update_time;
          oldest = Math.min(oldest, since ?? execution.startTime.getTime() / 1000);
        }
      });
      return oldest;
    }
    const startedBefore = async (ms: number) =>
      (await this.rpc(() => client.workflow.count(`${query} AND StartTime < '${new Date(ms).toISOString()}'`))).count > 0;
    let hi = Date.now();
    let span = 3_600_000;
    while (span < 400 * 86_400_000 && (await startedBefore(hi - span))) span *= 4;
    let lo = hi - span;
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2);
      if (await startedBefore(mid)) hi = mid;
      else lo = mid;
    }
    return lo / 1000;
  }

  /**
   * Stops the jobs each type's queue had when its fence was set, and only those: the batch runs
   * after the API has answered, and a job submitted after the stop must run. A job keeps its
   * start time across its retries, so one waiting out a retry's backoff is stopped too.
   */
  private async stopJobs(fences: { type: string; fenceMs: number }[]): Promise<void> {
    const { client } = this.deps;
    const before = fences
      .map(({ type, fenceMs }) => `(${JobNameKey.name} = '${type}' AND StartTime <= '${new Date(fenceMs).toISOString()}')`)
      .join(' OR ');
    const open = `${this.jobsOf(fences.map((f) => f.type))} AND (${before})`;
    try {
      await this.rpc(() =>
        client.workflowService.startBatchOperation({
          namespace: client.options.namespace,
          jobId: randomUUID(),
          reason: `stop of the ${fences.length === 1 ? fences[0]!.type : 'all'} job queue`,
          visibilityQuery: `${open} AND JobStatus IN ('Pending', 'Running')`,
          signalOperation: { signal: 'stop', identity: 'jobservice-api' },
        }),
      );
    } catch {
      // No batch (refused or unavailable): the fence still keeps every pending run from starting,
      // and the running ones, at most the workers' slots, are stopped one by one.
      await this.rpc(async () => {
        for await (const execution of client.workflow.list({ query: `${open} AND JobStatus = 'Running'` })) {
          await client.workflow
            .getHandle(execution.workflowId)
            .signal('stop')
            .catch(() => undefined);
        }
      });
    }
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return boundedRpc(this.deps.client, fn);
  }
}
