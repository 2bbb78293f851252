/**
 * Status hook deliveries and history pruning run on a task queue of their own, so a slow receiver
 * never takes a job's slot. Pure: imported by workflow code.
 */
export function housekeepingQueue(jobTaskQueue: string): string {
  return `${jobTaskQueue}-housekeeping`;
}

/**
 * Getting a limited run in line has a queue of its own: behind hook deliveries to a receiver that
 * hangs, it would wait their timeouts out, and every limited type with it. Pure.
 */
export function queueingQueue(jobTaskQueue: string): string {
  return `${jobTaskQueue}-queueing`;
}
