/**
 * A job type's queue: whether it is paused, the type's concurrency limit, and the fence a `stop`
 * sets. One JobQueue workflow per type and task queue holds it; jobs of the type ask it for a slot
 * when they must wait (a limit, a pause). Pure: imported by workflow code.
 */

export const QueueAction = { Pause: 'pause', Resume: 'resume', Stop: 'stop' } as const;
export type QueueAction = (typeof QueueAction)[keyof typeof QueueAction];
export const QUEUE_ACTIONS = Object.values(QueueAction) as [QueueAction, ...QueueAction[]];

/** The memo key of a JobQueue workflow: what a run's admission check and the API read without a worker. */
export const MEMO_QUEUE = 'queue';

/** What a queue's memo carries (and its query answers, with the waiting and running lists). */
export interface QueueGate {
  jobType: string;
  paused: boolean;
  /** Unix seconds of the pause, while paused. */
  paused_at?: number;
  /** Runs of the type that became pending before this (epoch ms) were stopped by a queue `stop`. */
  fence_ms?: number;
  /** The limit the newest waiting job carried; absent: no limit. */
  limit?: number;
}

export interface QueueState extends QueueGate {
  /** Waiting runs in the order they start: job id, ticket and when the run became pending (ms). */
  waiting: QueueEntry[];
  /** Runs holding a slot: job id → ticket and when the slot was granted (ms). */
  running: Record<string, { ticket: string; since_ms: number }>;
}

export interface QueueEntry {
  jobId: string;
  ticket: string;
  /** Epoch ms when the run became pending: submit order. */
  at: number;
}

/**
 * How long a worker may act on what it last read of a queue; the API waits a little longer before
 * it answers a pause or stop, so the answer means every worker sees it.
 */
export const GATE_CACHE_MS = 1000;
export const GATE_SETTLE_MS = GATE_CACHE_MS + 100;

/** One id per job type and deployment (task queue), so two deployments in a namespace never share a queue. */
export function queueWorkflowId(taskQueue: string, jobType: string): string {
  return `jobservice-queue/${taskQueue}/${jobType}`;
}

/** A run that became pending before the queue's last stop must never start. */
export function fencedOut(gate: Pick<QueueGate, 'fence_ms'> | undefined, pendingSinceMs: number): boolean {
  return gate?.fence_ms !== undefined && pendingSinceMs <= gate.fence_ms;
}
