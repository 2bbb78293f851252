import type { Client } from '@temporalio/client';
import type { JobRegistry } from '../jobs/job-registry.js';
import { jobsOfTaskQueue } from '../shared/job-start.js';
import { decodePoolIdentity } from '../shared/pool-identity.js';
import { nowSec } from '../shared/time.js';
import { boundedRpc } from './bounded-rpc.js';
import type { WorkerPool } from './contract.js';

/** Abandoned runs are few (a job that ignores its stop is a bug); past this many, /stats counts no more. */
const MAX_ABANDONED_LISTED = 1000;
const DESCRIBES_AT_ONCE = 20;

/** An idle worker long-polls for up to a minute, so a pool is dead only after a longer silence. */
export const POOL_DEAD_AFTER_SECONDS = 90;
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** Worker pools, from the pollers of the job task queue (workflow and activity sides). */
export async function workerPools(client: Client, taskQueue: string, registry: JobRegistry): Promise<WorkerPool[]> {
  const describe = (taskQueueType: number) =>
    boundedRpc(client, () =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType,
      }),
    );
  const [workflowSide, activitySide, abandoned] = await Promise.all([
    describe(TASK_QUEUE_TYPE_WORKFLOW),
    describe(TASK_QUEUE_TYPE_ACTIVITY),
    abandonedRunsByPool(client, taskQueue),
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
async function abandonedRunsByPool(client: Client, taskQueue: string): Promise<Map<string, number>> {
  const query = `${jobsOfTaskQueue(taskQueue)} AND ExecutionStatus = 'Running' AND JobStatus IN ('Stopped', 'Cancelled')`;
  const byPool = new Map<string, number>();
  // What a pool's slots hold is extra information: /stats answers without it rather than fail.
  const executions = await boundedRpc(client, async () => {
    const found: { workflowId: string; runId: string }[] = [];
    for await (const e of client.workflow.list({ query, pageSize: 100 })) {
      if (found.push({ workflowId: e.workflowId, runId: e.runId }) >= MAX_ABANDONED_LISTED) break;
    }
    return found;
  }).catch(() => []);
  for (let at = 0; at < executions.length; at += DESCRIBES_AT_ONCE) {
    const batch = executions.slice(at, at + DESCRIBES_AT_ONCE);
    const described = await Promise.all(
      batch.map((e) => boundedRpc(client, () => client.workflow.getHandle(e.workflowId, e.runId).describe()).catch(() => undefined)),
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

/** A pool that has not polled for longer than an idle long poll lasts is taken as gone. */
export function poolHealth(heartbeatAt: number, now: number): 'Healthy' | 'Dead' {
  return now - heartbeatAt <= POOL_DEAD_AFTER_SECONDS ? 'Healthy' : 'Dead';
}
