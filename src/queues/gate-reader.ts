import type { Client } from '@temporalio/client';
import { GATE_CACHE_MS, type QueueGate } from '../shared/job-queue.js';
import { readQueueGate } from './queue-client.js';

export type GateReader = (taskQueue: string, jobType: string) => Promise<QueueGate | undefined>;

/**
 * A worker reads a type's queue at most once per GATE_CACHE_MS, counted from when the read was
 * sent. The API answers a pause or stop only after that long, so once it has answered no worker
 * acts on a view from before it: a run starting then sees the change, at one read per type per
 * second instead of one per run.
 */
export function createGateReader(client: Client, now: () => number = () => performance.now()): GateReader {
  const cache = new Map<string, { sentAt: number; gate: Promise<QueueGate | undefined> }>();
  return (taskQueue, jobType) => {
    const key = `${taskQueue}\u0000${jobType}`;
    const cached = cache.get(key);
    if (cached && now() - cached.sentAt < GATE_CACHE_MS) return cached.gate;
    const entry = { sentAt: now(), gate: readQueueGate(client, taskQueue, jobType) };
    // A failed read is not kept: the next run asks again.
    entry.gate.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    cache.set(key, entry);
    return entry.gate;
  };
}
