import type { Client } from '@temporalio/client';
import { Gauge, Registry } from 'prom-client';
import type { TargetSummary } from '../jobs/batch/define-batch-job.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { JobNameKey } from '../shared/search-attributes.js';
import { jobView } from '../views/job-view.js';

/** Newest first: the executions a scrape reads per batch job (pruning keeps `report_history` of them). */
const MAX_EXECUTIONS = 100;

/**
 * The batch jobs' reports as Prometheus gauges, read from Temporal at each scrape (no second
 * store): `<prefix>_<suffix>{target, execution_id, …labels}` for every finished execution kept,
 * and the newest once more as `execution_id="latest"` where the job asks for it.
 */
export async function renderBatchMetrics(client: Client, jobs: JobRegistry): Promise<string> {
  const registry = new Registry();
  for (const name of jobs.names()) {
    const batch = jobs.get(name)?.batch;
    if (!batch) continue;
    const gauges = new Map(
      batch.gauges.map((g) => [
        g.suffix,
        new Gauge({
          name: `${batch.prefix}_${g.suffix}`,
          help: g.help,
          labelNames: ['target', 'execution_id', ...g.labels],
          registers: [registry],
        }),
      ]),
    );
    const executions: { id: string; closedAt: number; results: Record<string, { summary?: Record<string, unknown> }> }[] = [];
    for await (const e of client.workflow.list({
      query: `${JobNameKey.name} = '${name}' AND ExecutionStatus != 'Running'`,
      pageSize: MAX_EXECUTIONS,
    })) {
      const view = jobView(e.memo, e.workflowId, e.startTime);
      if (view?.state.results)
        executions.push({ id: e.workflowId, closedAt: (e.closeTime ?? e.startTime).getTime(), results: view.state.results });
      if (executions.length >= MAX_EXECUTIONS) break;
    }
    executions.sort((a, b) => b.closedAt - a.closedAt);
    executions.forEach((execution, i) => {
      const ids = i === 0 && batch.latestMetricsLabel ? [execution.id, 'latest'] : [execution.id];
      for (const [target, result] of Object.entries(execution.results)) {
        const report = (result.summary as TargetSummary | undefined)?.report ?? {};
        for (const [suffix, values] of Object.entries(report)) {
          for (const { value, labels } of values) {
            for (const execution_id of ids) gauges.get(suffix)?.set({ ...labels, target, execution_id }, value);
          }
        }
      }
    });
  }
  return registry.metrics();
}
