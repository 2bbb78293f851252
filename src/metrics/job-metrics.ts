import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { METRIC_PREFIX } from './metric-names.js';

/**
 * A worker process's metrics, through prom-client. Harbor's names (`src/lib/metric/jobservice.go`):
 *   <ns>_<sub>_info{node,pool,workers} 1
 *   <ns>_<sub>_task_total{type,status}                     runs that ended, by job name and outcome
 *   <ns>_<sub>_task_process_time_seconds{type,status}      a summary (sum and count) of run times
 * `status` is Harbor's: success, fail or stop. A run cut short by its worker shutting down is not
 * counted here; it runs again elsewhere and is counted there. Ours beside them: how long runs
 * waited to start, how late periodic fires started, hook deliveries, schedules paused for failures.
 */
export type MetricRunStatus = 'success' | 'fail' | 'stop';

export interface PoolInfo {
  node: string;
  pool: string;
  workers: number;
}

/** Seconds; from a quick start to a day in a paused queue. */
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86_400];

export class JobMetrics {
  readonly registry = new Registry();
  private readonly tasks: Counter<'type' | 'status'>;
  private readonly processTime: Summary<'type' | 'status'>;
  private readonly startLatency: Histogram<'type'>;
  private readonly fireLateness: Histogram<'type'>;
  private readonly hookDeliveries: Counter<'result'>;
  private readonly schedulePauses: Counter<'type'>;
  private readonly abandoned: Gauge;

  constructor(info: PoolInfo, prefix = METRIC_PREFIX) {
    const registers = [this.registry];
    new Gauge({ name: `${prefix}_info`, help: 'the information of jobservice.', labelNames: ['node', 'pool', 'workers'], registers }).set(
      { node: info.node, pool: info.pool, workers: String(info.workers) },
      1,
    );
    this.tasks = new Counter({
      name: `${prefix}_task_total`,
      help: 'The number of processed tasks',
      labelNames: ['type', 'status'],
      registers,
    });
    this.processTime = new Summary({
      name: `${prefix}_task_process_time_seconds`,
      help: 'The time duration of the task processing time',
      labelNames: ['type', 'status'],
      percentiles: [],
      registers,
    });
    this.startLatency = new Histogram({
      name: `${prefix}_task_start_latency_seconds`,
      help: 'From when a run became pending (submitted, due, or retried) to when its code started',
      labelNames: ['type'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.fireLateness = new Histogram({
      name: `${prefix}_schedule_fire_lateness_seconds`,
      help: "How long after its nominal time a periodic job's execution started",
      labelNames: ['type'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.hookDeliveries = new Counter({
      name: `${prefix}_hook_deliveries_total`,
      help: 'Status hook POSTs, by result: delivered (2xx) or failed (any other answer, or none)',
      labelNames: ['result'],
      registers,
    });
    this.abandoned = new Gauge({
      name: `${prefix}_abandoned_runs`,
      help: 'Job slots of this worker busy with runs that ignored a stop: their jobs are final, their code still runs',
      registers,
    });
    this.schedulePauses = new Counter({
      name: `${prefix}_schedule_paused_for_failures_total`,
      help: 'Periodic jobs paused after pause_after_failures failed executions in a row',
      labelNames: ['type'],
      registers,
    });
  }

  /** A run that ignored its stop past the grace period started (+1) or stopped (-1) holding a slot. */
  abandonedRun(delta: 1 | -1): void {
    this.abandoned.inc(delta);
  }

  recordRun(type: string, status: MetricRunStatus, seconds: number): void {
    this.tasks.inc({ type, status });
    this.processTime.observe({ type, status }, seconds);
  }

  recordStart(type: string, waitedSeconds: number): void {
    this.startLatency.observe({ type }, Math.max(0, waitedSeconds));
  }

  recordFire(type: string, lateSeconds: number): void {
    this.fireLateness.observe({ type }, Math.max(0, lateSeconds));
  }

  recordHookDelivery(delivered: boolean): void {
    this.hookDeliveries.inc({ result: delivered ? 'delivered' : 'failed' });
  }

  /** A periodic job of this type was paused for failing `pause_after_failures` times in a row. */
  recordSchedulePause(type: string): void {
    this.schedulePauses.inc({ type });
  }

  /** The Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
