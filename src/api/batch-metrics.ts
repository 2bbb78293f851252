import type { Client } from '@temporalio/client';
import { Gauge, Registry } from 'prom-client';
import type { TargetSummary } from '../jobs/batch/define-batch-job.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { JobNameKey, UpstreamJobIdKey } from '../shared/search-attributes.js';
import { isFinal, type JobStatus } from '../shared/job-model.js';
import { fanOutTargetRuns } from '../views/fan-out-targets.js';
import { getOwn } from '../shared/fan-out.js';

/**
 * Newest first, the executions a scrape reads per series of a batch job (a periodic job's, or the
 * job's others): pruning keeps `report_history` (at most 100) of each. A bound on all of a job's
 * series together keeps a scrape's cost in hand when no pruning is asked for.
 */
const MAX_PER_SERIES = 100;
const MAX_EXECUTIONS = 1000;

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
    const executions = await executionsToRead(
      client.workflow.list({
        // A run that continued as new is part of the execution that goes on, not an execution of its own.
        // A running execution (a retried one too) shows the targets that have ended: a retry keeps
        // the series of those that succeeded, and results appear as targets end, as the controller's do.
        query: `${JobNameKey.name} = '${name}' AND TaskQueue = '${taskQueue}' AND ExecutionStatus != 'ContinuedAsNew'`,
        pageSize: MAX_PER_SERIES,
      }),
    );
    // Each execution's series are its targets' newest runs; `latest` may be an earlier run's report,
    // when a target's last run (a retry's) failed before it reported.
    const reported: TargetReport[] = [];
    const earlier: TargetReport[] = [];
    for (const execution of executions) {
      const runs = (await fanOutTargetRuns(client, execution)).filter((run) => isFinal(run.status as JobStatus));
      const newest = new Map<string, number>();
      for (const run of runs) newest.set(run.target, Math.max(newest.get(run.target) ?? -1, run.startedAt));
      for (const run of runs) {
        const report = (run.summary as TargetSummary | undefined)?.report ?? {};
        const entry = { execution, target: run.target, startedAt: run.startedAt, report };
        (run.startedAt === newest.get(run.target) ? reported : earlier).push(entry);
      }
    }
    const latest = latestReports([...reported, ...earlier]);
    const own = new Set(reported);
    for (const r of [...reported, ...earlier]) {
      const isLatest = batch.latestMetricsLabel === true && latest.get(r.target) === r;
      const ids = [...(own.has(r) ? [r.execution] : []), ...(isLatest ? ['latest'] : [])];
      for (const [suffix, values] of Object.entries(r.report)) {
        const declared = gauges.get(suffix);
        if (!declared) continue;
        for (const { value, labels } of values) {
          // A report kept from before the job's labels changed (or by a newer worker in a rolling
          // deploy) carries labels this definition lacks: it shows with the declared ones only,
          // those it lacks empty, rather than failing every scrape.
          const known = Object.fromEntries(declared.labels.map((l) => [l, getOwn(labels ?? {}, l) ?? '']));
          for (const execution_id of ids) declared.gauge.set({ ...known, target: r.target, execution_id }, value);
        }
      }
    }
  }
  return registry.metrics();
}

/** The executions a scrape reads, newest first as visibility lists them: up to MAX_PER_SERIES of each series, MAX_EXECUTIONS in all. */
export async function executionsToRead(
  listed: AsyncIterable<{ workflowId: string; typedSearchAttributes?: { get(key: typeof UpstreamJobIdKey): string | undefined } }>,
): Promise<string[]> {
  const executions: string[] = [];
  const perSeries = new Map<string, number>();
  for await (const e of listed) {
    // A periodic job's executions are its series; the job's other executions are one more.
    const series = e.typedSearchAttributes?.get(UpstreamJobIdKey) ?? '';
    const kept = perSeries.get(series) ?? 0;
    if (kept >= MAX_PER_SERIES) continue;
    perSeries.set(series, kept + 1);
    executions.push(e.workflowId);
    if (executions.length >= MAX_EXECUTIONS) break;
  }
  return executions;
}

export interface TargetReport {
  execution: string;
  target: string;
  /** When the target's job started: a retried execution's kept targets ran long before it closed. */
  startedAt: number;
  report: TargetSummary['report'];
}

/**
 * Each target's latest report: the newest by when the target ran, among those that reported, not by
 * when its execution closed (a retried old execution closes last, with reports kept from long before).
 */
export function latestReports(reported: readonly TargetReport[]): Map<string, TargetReport> {
  const latest = new Map<string, TargetReport>();
  for (const r of reported) {
    if (!Object.values(r.report).some((values) => values.length > 0)) continue;
    const seen = latest.get(r.target);
    if (!seen || r.startedAt > seen.startedAt) latest.set(r.target, r);
  }
  return latest;
}
