import type { Client } from '@temporalio/client';
import type { RunTimes } from './histories.js';
import { pool, until } from './processes.js';
import { percentile, round } from './stats.js';

/** Server-side latency of a burst: enqueue→start percentiles and completions/s since the first submit. */
export function latencyMetrics(times: RunTimes[], firstSubmit: number) {
  const toStart = times.map((t) => t.started - t.enqueued);
  const lastClose = Math.max(...times.map((t) => t.closed));
  return {
    // Started in the same millisecond as accepted: an eager start (no server round trip), or a task a poller was waiting for.
    started_at_once_pct: round((100 * toStart.filter((ms) => ms <= 1).length) / times.length),
    enqueue_to_start_p50_ms: round(percentile(toStart, 0.5)),
    enqueue_to_start_p99_ms: round(percentile(toStart, 0.99)),
    completions_per_s: round((times.length * 1000) / (lastClose - firstSubmit)),
  };
}

export interface Submitted {
  ids: string[];
  firstSubmit: number;
  metrics: { n: number; callers: number; submit_per_s: number; submit_p50_ms: number; submit_p99_ms: number };
}

/** Submit `n` jobs with `callers` concurrent callers; `submit` returns the job's id. */
export async function submitAll(n: number, callers: number, submit: (i: number) => Promise<string>): Promise<Submitted> {
  const ids: string[] = [];
  const latencies: number[] = [];
  const firstSubmit = Date.now();
  await pool(n, callers, async (i) => {
    const t = performance.now();
    ids.push(await submit(i));
    latencies.push(performance.now() - t);
  });
  const seconds = (Date.now() - firstSubmit) / 1000;
  return {
    ids,
    firstSubmit,
    metrics: {
      n,
      callers,
      submit_per_s: round(n / seconds),
      submit_p50_ms: round(percentile(latencies, 0.5)),
      submit_p99_ms: round(percentile(latencies, 0.99)),
    },
  };
}

/** Wait until no workflow on the task queue is open (visibility), polling twice a second. */
export function drained(client: Client, taskQueue: string): Promise<void> {
  const query = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  return until(async () => (await client.workflow.count(query)).count === 0, 600_000, `${taskQueue} to drain`, 500);
}
