/**
 * Harbor's jobservice metrics (`src/lib/metric/jobservice.go`), per worker process:
 *   <ns>_<sub>_info{node,pool,workers} 1
 *   <ns>_<sub>_task_total{type,status}                     runs that ended, by job name and outcome
 *   <ns>_<sub>_task_process_time_seconds{type,status}      a summary (sum and count) of run times
 * `status` is Harbor's: success, fail or stop. A run cut short by its worker shutting down is not
 * counted here; it runs again elsewhere and is counted there.
 */
export type MetricRunStatus = 'success' | 'fail' | 'stop';

export interface PoolInfo {
  node: string;
  pool: string;
  workers: number;
}

interface Series {
  type: string;
  status: MetricRunStatus;
  count: number;
  seconds: number;
}

export class JobMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly info: PoolInfo,
    private readonly prefix = `${process.env.METRIC_NAMESPACE || 'harbor'}_${process.env.METRIC_SUBSYSTEM || 'jobservice'}`,
  ) {}

  private readonly schedulePauses = new Map<string, number>();

  /** A periodic job of this type was paused for failing `pause_after_failures` times in a row. */
  recordSchedulePause(type: string): void {
    this.schedulePauses.set(type, (this.schedulePauses.get(type) ?? 0) + 1);
  }

  recordRun(type: string, status: MetricRunStatus, seconds: number): void {
    const key = `${type}\u0000${status}`;
    const entry = this.series.get(key) ?? { type, status, count: 0, seconds: 0 };
    entry.count += 1;
    entry.seconds += seconds;
    this.series.set(key, entry);
  }

  /** The Prometheus text exposition format (0.0.4). */
  render(): string {
    const p = this.prefix;
    const { node, pool, workers } = this.info;
    const lines = [
      `# HELP ${p}_info the information of jobservice.`,
      `# TYPE ${p}_info gauge`,
      `${p}_info${labels({ node, pool, workers: String(workers) })} 1`,
      `# HELP ${p}_task_total The number of processed tasks`,
      `# TYPE ${p}_task_total counter`,
    ];
    const sorted = [...this.series.values()].sort((a, b) => (a.type + a.status < b.type + b.status ? -1 : 1));
    for (const s of sorted) lines.push(`${p}_task_total${labels({ type: s.type, status: s.status })} ${s.count}`);
    lines.push(`# HELP ${p}_task_process_time_seconds The time duration of the task processing time`);
    lines.push(`# TYPE ${p}_task_process_time_seconds summary`);
    for (const s of sorted) {
      const l = labels({ type: s.type, status: s.status });
      lines.push(`${p}_task_process_time_seconds_sum${l} ${s.seconds}`);
      lines.push(`${p}_task_process_time_seconds_count${l} ${s.count}`);
    }
    lines.push(`# HELP ${p}_schedule_paused_for_failures_total Periodic jobs paused after pause_after_failures failed executions in a row`);
    lines.push(`# TYPE ${p}_schedule_paused_for_failures_total counter`);
    for (const [type, count] of [...this.schedulePauses].sort())
      lines.push(`${p}_schedule_paused_for_failures_total${labels({ type })} ${count}`);
    return `${lines.join('\n')}\n`;
  }
}

function labels(values: Record<string, string>): string {
  const escaped = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return `{${escaped.join(',')}}`;
}
