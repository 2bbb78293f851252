/** Where the service's own gauges are named: Harbor's metric namespace and subsystem. */
export const METRIC_PREFIX = `${process.env.METRIC_NAMESPACE || 'harbor'}_${process.env.METRIC_SUBSYSTEM || 'jobservice'}`;

/** The job queues' gauges on the API's /metrics, by suffix: a batch job's gauge may not take one of their names. */
export const QUEUE_GAUGE_SUFFIXES = ['pending', 'running', 'latency_seconds', 'paused', 'concurrency_limit'] as const;

export function queueGaugeName(suffix: (typeof QUEUE_GAUGE_SUFFIXES)[number]): string {
  return `${METRIC_PREFIX}_queue_${suffix}`;
}
