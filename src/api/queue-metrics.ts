import { Gauge, Registry } from 'prom-client';
import { queueGaugeName, type QUEUE_GAUGE_SUFFIXES } from '../metrics/metric-names.js';
import type { QueueGateway } from './queue-gateway.js';

/** The job queues as gauges, read from Temporal at each scrape, as `GET /api/v1/queues` shows them. */
export async function renderQueueMetrics(queues: QueueGateway): Promise<string> {
  const registry = new Registry();
  const gauge = (suffix: (typeof QUEUE_GAUGE_SUFFIXES)[number], help: string) =>
    new Gauge({ name: queueGaugeName(suffix), help, labelNames: ['type'], registers: [registry] });
  const pending = gauge('pending', 'Jobs of the type waiting to run (Pending)');
  const running = gauge('running', 'Jobs of the type running');
  const latency = gauge('latency_seconds', 'Seconds since the longest-waiting pending job of the type became pending');
  const paused = gauge('paused', '1 while the type is paused');
  const limit = gauge('concurrency_limit', "The type's limit on runs at once across every worker (absent: none)");
  for (const row of await queues.list()) {
    const type = { type: row.job_type };
    pending.set(type, row.count);
    running.set(type, row.running);
    latency.set(type, row.latency);
    paused.set(type, row.paused ? 1 : 0);
    if (row.concurrency_limit !== null) limit.set(type, row.concurrency_limit);
  }
  return registry.metrics();
}
