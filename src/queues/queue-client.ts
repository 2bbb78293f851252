import { isGrpcServiceError, WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EnterQueueInput } from '../activities/types.js';
import { MEMO_QUEUE, queueWorkflowId, type QueueAction, type QueueGate } from '../shared/job-queue.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { JobQueue, type JobQueueInput } from '../workflows/job-queue-workflow.js';
import type { GateReader } from './gate-reader.js';
import { acquireSlotSignal, queueControlUpdate, queueLimitSignal, type QueueControlResult } from '../workflows/queue-messages.js';

/**
 * A type's queue as its memo has it; undefined when the type has no queue (never paused, no limit).
 * A queue whose workflow has closed (an operator's terminate) still holds its pause and its stop's
 * fence: the next run that must wait starts a fresh queue from them (startArgs).
 */
export async function readQueueGate(client: Client, taskQueue: string, jobType: string): Promise<QueueGate | undefined> {
  try {
    const description = await client.workflow.getHandle(queueWorkflowId(taskQueue, jobType)).describe();
    const gate = description.memo?.[MEMO_QUEUE] as QueueGate | undefined;
    if (description.status.name === 'RUNNING') return gate;
    return gate && lasting(gate);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** What of a closed queue's gate a fresh queue keeps: its pause and its fence (the limit comes with each run). */
function lasting(gate: QueueGate): QueueGate | undefined {
  if (!gate.paused && gate.fence_ms === undefined) return undefined;
  const { limit: _limit, ...kept } = gate;
  return kept;
}

/** The start argument of a type's queue, from its gate: a fresh one after a closed one starts paused and fenced as that one was. */
function startArgs(jobType: string, gate: QueueGate | undefined): [JobQueueInput] {
  return [gate ? { jobType, state: { ...gate, jobType, waiting: [], running: {} } } : { jobType }];
}

function startOptions(taskQueue: string, jobType: string, args: [JobQueueInput]) {
  return {
    workflowId: queueWorkflowId(taskQueue, jobType),
    taskQueue,
    args,
    typedSearchAttributes: [{ key: JobStatusKey, value: 'Active' }],
    staticSummary: `queue of ${jobType} jobs: pause, resume, stop and the type's concurrency limit`,
  };
}

/** Signal-with-start: the queue's workflow exists from the first run that waits on it. */
export async function enterQueue(
  client: Client,
  input: EnterQueueInput,
  /** How the gate is read: a worker passes its cached reader (one read per type a second, not one per waiting run). */
  gates: GateReader = (taskQueue, jobType) => readQueueGate(client, taskQueue, jobType),
): Promise<void> {
  const { taskQueue, jobType, limit, ...entry } = input;
  await client.workflow.signalWithStart(JobQueue, {
    ...startOptions(taskQueue, jobType, startArgs(jobType, await gates(taskQueue, jobType))),
    signal: acquireSlotSignal,
    signalArgs: [limit === undefined ? entry : { ...entry, limit }],
  });
}

/** Update-with-start: pausing a type that never had a queue creates it. Answers once the memo holds the change. */
export async function controlQueue(client: Client, taskQueue: string, jobType: string, action: QueueAction): Promise<QueueControlResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.workflow.executeUpdateWithStart(queueControlUpdate, {
        args: [{ action }],
        startWorkflowOperation: new WithStartWorkflowOperation(JobQueue, {
          ...startOptions(taskQueue, jobType, startArgs(jobType, await readQueueGate(client, taskQueue, jobType))),
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
    } catch (err) {
      // A busy queue continues as new in the task that took the update; a signal arriving meanwhile
      // makes the server refuse that task, and the update with it (it was never recorded). Asked
      // again, the new run takes it: every action is idempotent.
      if (attempt >= CONTROL_ATTEMPTS || !refusedWithItsTask(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

const CONTROL_ATTEMPTS = 5;
const GRPC_FAILED_PRECONDITION = 9;

/**
 * The server's answer to an update whose workflow task failed: FAILED_PRECONDITION, as the gRPC
 * error update-with-start throws as it is (its message says why) or as a service error's cause.
 */
function refusedWithItsTask(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = isGrpcServiceError(e) ? e.code : (e as { code?: unknown }).code;
    if (code === GRPC_FAILED_PRECONDITION && /workflow task failure/i.test(e.message)) return true;
  }
  return false;
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
