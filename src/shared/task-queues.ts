/**
 * Status hook deliveries and history pruning run on a task queue of their own, so a slow receiver
 * never takes a job's slot. Pure: imported by workflow code.
 */
export function housekeepingQueue(jobTaskQueue: string): string {
  return `${jobTaskQueue}-housekeeping`;
}
