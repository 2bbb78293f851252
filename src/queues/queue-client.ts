import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EnterQueueInput } from '../activities/types.js';
import { MEMO_QUEUE, queueWorkflowId, type QueueAction, type QueueGate } from '../shared/job-queue.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { JobQueue } from '../workflows/job-queue-workflow.js';
import { acquireSlotSignal, queueControlUpdate, queueLimitSignal, type QueueControlResult } from '../workflows/queue-messages.js';

/** A type's queue as its memo has it; undefined when the type has no queue (never paused, no limit, or terminated). */
export async function readQueueGate(client: Client, taskQueue: string, jobType: string): Promise<QueueGate | undefined> {
  try {
    const description = await client.workflow.getHandle(queueWorkflowId(taskQueue, jobType)).describe();
    // A queue terminated from outside holds nothing back: the next run that must wait starts a fresh one.
    if (description.status.name !== 'RUNNING') return undefined;
    return description.memo?.[MEMO_QUEUE] as QueueGate | undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

function startOptions(taskQueue: string, jobType: string) {
  return {
    workflowId: queueWorkflowId(taskQueue, jobType),
    taskQueue,
    args: [{ jobType }] as [{ jobType: string }],
    typedSearchAttributes: [{ key: JobStatusKey, value: 'Active' }],
    staticSummary: `queue of ${jobType} jobs: pause, resume, stop and the type's concurrency limit`,
  };
}

/** Signal-with-start: the queue's workflow exists from the first run that waits on it. */
export async function enterQueue(client: Client, input: EnterQueueInput): Promise<void> {
  const { taskQueue, jobType, limit, ...entry } = input;
  await client.workflow.signalWithStart(JobQueue, {
    ...startOptions(taskQueue, jobType),
    signal: acquireSlotSignal,
    signalArgs: [limit === undefined ? entry : { ...entry, limit }],
  });
}

/** Update-with-start: pausing a type that never had a queue creates it. Answers once the memo holds the change. */
export async function controlQueue(client: Client, taskQueue: string, jobType: string, action: QueueAction): Promise<QueueControlResult> {
  return client.workflow.executeUpdateWithStart(queueControlUpdate, {
    args: [{ action }],
    startWorkflowOperation: new WithStartWorkflowOperation(JobQueue, {
      ...startOptions(taskQueue, jobType),
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

/**
 * A worker starting tells each open queue of its types (one visibility read finds them) the limit
 * its configuration gives the type, so runs already waiting follow a limit lifted, raised or
 * added. Queues that hold the same limit are left alone.
 */
export async function applyQueueLimits(client: Client, taskQueue: string, limits: ReadonlyMap<string, number | undefined>): Promise<void> {
  const sends: Promise<void>[] = [];
  const query = `WorkflowType = '${JobQueue.name}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  for await (const queue of client.workflow.list({ query })) {
    const gate = queue.memo?.[MEMO_QUEUE] as QueueGate | undefined;
    if (gate === undefined || !limits.has(gate.jobType)) continue;
    const limit = limits.get(gate.jobType);
    if (gate.limit === limit) continue;
    sends.push(
      client.workflow
        .getHandle(queue.workflowId)
        .signal(queueLimitSignal, limit === undefined ? {} : { limit })
        .catch((err: unknown) => {
          // Closed since it was listed: the next run that must wait starts a queue with today's limit.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }),
    );
  }
  await Promise.all(sends);
}
