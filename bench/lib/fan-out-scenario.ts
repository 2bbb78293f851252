import type { Client } from '@temporalio/client';
import { percentile, round } from './stats.js';
import { finalStatus, submitJob } from './api-jobs.js';

/**
 * A NOOP_BATCH of `targets` no-op targets at `poolSize`: wall time against the pool-bound ideal
 * (rounds of the pool × the median target's own duration), children started per second, and the
 * execution's history (events and bytes), which must stay far from Temporal's limits.
 */
export async function fanOutScenario(o: {
  client: Client;
  base: string;
  headers: Record<string, string>;
  targets: number;
  poolSize: number;
}) {
  const start = performance.now();
  const job = {
    name: 'NOOP_BATCH',
    parameters: { targets: o.targets, pool_size: o.poolSize, report_history: 1 },
    metadata: { kind: 'Generic' },
  };
  const id = await submitJob(o.base, o.headers, job);
  const status = await finalStatus(o.base, o.headers, id, 3_600_000);
  const wall = (performance.now() - start) / 1000;
  if (status !== 'Success') throw new Error(`NOOP_BATCH ended ${status}`);
  const children: { started: number; closed: number }[] = [];
  for await (const e of o.client.workflow.list({ query: `UpstreamJobId = '${id}'` })) {
    children.push({ started: e.startTime.getTime(), closed: (e.closeTime ?? e.startTime).getTime() });
  }
  const starts = children.map((c) => c.started).sort((a, b) => a - b);
  const median = percentile(
    children.map((c) => c.closed - c.started),
    0.5,
  );
  const ideal = (Math.ceil(o.targets / o.poolSize) * median) / 1000;
  const raw = await o.client.workflowService.describeWorkflowExecution({
    namespace: o.client.options.namespace,
    execution: { workflowId: id },
  });
  const info = raw.workflowExecutionInfo;
  return {
    targets: o.targets,
    pool_size: o.poolSize,
    children_seen: children.length,
    wall_s: round(wall),
    target_median_ms: round(median),
    pool_bound_ideal_s: round(ideal),
    wall_to_ideal: round(wall / ideal),
    children_started_per_s: round(children.length / ((starts[starts.length - 1]! - starts[0]!) / 1000)),
    parent_history_events: Number(info?.historyLength ?? 0),
    parent_history_kib: round(Number(info?.historySizeBytes ?? 0) / 1024),
  };
}
