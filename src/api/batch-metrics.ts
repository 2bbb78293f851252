import type { Client } from '@temporalio/client';
import { Gauge, Registry } from 'prom-client';
import type { TargetSummary } from '../jobs/batch/define-batch-job.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { JobNameKey } from '../shared/search-attributes.js';
import { fanOutTargets } from '../views/fan-out-targets.js';
import { getOwn } from '../shared/fan-out.js';

/** Newest first: the executions a scrape reads per batch job (pruning keeps `report_history` of them). */
const MAX_EXECUTIONS = 100;

/**
 * The batch jobs' reports as Prometheus gauges, read from Temporal at each scrape (no second
 * store): `<prefix>_<suffix>{target, execution_id, …labels}` for every finished execution kept,
 * and, where the job asks for it, each target's newest report once more as `execution_id="latest"`
 * (as batch-job-controller overwrites a node's latest only when that node reports: an execution
 * stopped or failed before a target reported leaves that target's latest as it was).
 */
export async function renderBatchMetrics(client: Client, jobs: JobRegistry, taskQueue: string): Promise<string> {
  const registry = new Registry();
  for (const name of jobs.names()) {
    const batch = jobs.get(name)?.batch;
    if (!batch) continue;
    const gauges = new Map<string, { gauge: Gauge; labels: readonly string[] }>();
    for (const g of batch.gauges) {
      const metric = `${batch.prefix}_${g.suffix}`;
      // Two jobs declaring one name is a definition mistake (the registry refuses it at start-up);
      // a scrape never fails over it: the first job's series stay.
      if (registry.getSingleMetric(metric)) continue;
      gauges.set(g.suffix, {
        gauge: new Gauge({ name: metric, help: g.help, labelNames: ['target', 'execution_id', ...g.labels], registers: [registry] }),
        labels: g.labels,
      });
    }
    const executions: { id: string; closedAt: number }[] = [];
    for await (const e of client.workflow.list({
      // A run that continued as new is part of the execution that goes on, not an execution of its own.
      query: `${JobNameKey.name} = '${name}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus NOT IN ('Running', 'ContinuedAsNew')`,
      pageSize: MAX_EXECUTIONS,
    })) {
      executions.push({ id: e.workflowId, closedAt: (e.closeTime ?? e.startTime).getTime() });
      if (executions.length >= MAX_EXECUTIONS) break;
    }
    executions.sort((a, b) => b.closedAt - a.closedAt);
    const hasLatest = new Set<string>();
    for (const execution of executions) {
      for (const [target, result] of Object.entries(await fanOutTargets(client, execution.id))) {
        const report = (result.summary as TargetSummary | undefined)?.report ?? {};
        const reported = Object.values(report).some((values) => values.length > 0);
        const ids = batch.latestMetricsLabel && reported && !hasLatest.has(target) ? [execution.id, 'latest'] : [execution.id];
        if (ids.length > 1) hasLatest.add(target);
        for (const [suffix, values] of Object.entries(report)) {
          const declared = gauges.get(suffix);
          if (!declared) continue;
          for (const { value, labels } of values) {
            // A report kept from before the job's labels changed (or by a newer worker in a rolling
            // deploy) carries labels this definition lacks: it shows with the declared ones only,
            // those it lacks empty, rather than failing every scrape.
            const known = Object.fromEntries(declared.labels.map((l) => [l, getOwn(labels ?? {}, l) ?? '']));
            for (const execution_id of ids) declared.gauge.set({ ...known, target, execution_id }, value);
          }
        }
      }
    }
  }
  return registry.metrics();
}
