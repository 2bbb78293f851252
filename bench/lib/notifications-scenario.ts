import { createServer } from 'node:http';
import type { Client } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { postJob } from './http-post.js';
import { percentile, round } from './stats.js';
import { pool, until } from './processes.js';

/**
 * N WEBHOOK jobs, as Harbor core sends its notifications, to a receiver on loopback: submits by
 * C callers, completions/s, and submit → delivered latency (the receiver's clock, same process).
 * With `delayMs` the receiver answers that late: a WEBHOOK is a short job (a local activity), and a
 * short run waiting for a job slot holds its workflow task, which the SDK heartbeats past 80% of
 * its 10 s timeout. `workflow_tasks_per_job` (from a sample of histories) shows what that costs.
 */
export async function notificationsScenario(o: {
  client: Client;
  base: string;
  headers: Record<string, string>;
  n: number;
  callers: number;
  delayMs: number;
}) {
  const delivered = new Map<number, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { i } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number };
      if (!delivered.has(i)) delivered.set(i, Date.now());
      setTimeout(() => res.writeHead(200).end(), o.delayMs);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  const submitted = new Map<number, number>();
  const latencies: number[] = [];
  const ids: string[] = [];
  try {
    const first = Date.now();
    await pool(o.n, o.callers, async (i) => {
      const body = JSON.stringify({
        job: {
          name: 'WEBHOOK',
          parameters: { address, payload: JSON.stringify({ i, type: 'PUSH_ARTIFACT' }), header: '{"Content-Type":["application/json"]}' },
          metadata: { kind: 'Generic' },
        },
      });
      const t = Date.now();
      const started = performance.now();
      ids.push(await postJob(`${o.base}/jobs`, o.headers, body));
      latencies.push(performance.now() - started);
      submitted.set(i, t);
    });
    const submitSeconds = (Date.now() - first) / 1000;
    await until(async () => delivered.size >= o.n, 1_800_000, 'every notification delivered', 200);
    const toDelivered = [...delivered].map(([i, at]) => at - submitted.get(i)!);
    const last = Math.max(...delivered.values());
    const sample = ids.filter((_, k) => k % Math.max(1, Math.floor(ids.length / 50)) === 0);
    let statuses: string[] = [];
    await until(
      async () => {
        statuses = (await Promise.all(sample.map((id) => o.client.workflow.getHandle(id).describe()))).map((d) => d.status.name);
        return statuses.every((s) => s !== 'RUNNING');
      },
      600_000,
      'the sampled notification jobs to close',
      500,
    );
    const histories = await Promise.all(sample.map((id) => o.client.workflow.getHandle(id).fetchHistory()));
    const tasks = histories.map((h) => (h.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length);
    const succeeded = statuses.filter((s) => s === 'COMPLETED').length;
    return {
      n: o.n,
      callers: o.callers,
      submit_per_s: round(o.n / submitSeconds),
      submit_p50_ms: round(percentile(latencies, 0.5)),
      submit_p99_ms: round(percentile(latencies, 0.99)),
      completions_per_s: round((o.n * 1000) / (last - first)),
      submit_to_delivered_p50_ms: round(percentile(toDelivered, 0.5)),
      submit_to_delivered_p99_ms: round(percentile(toDelivered, 0.99)),
      receiver_delay_ms: o.delayMs,
      workflow_tasks_per_job: round(tasks.reduce((a, b) => a + b, 0) / tasks.length, 2),
      sampled_jobs_completed: `${succeeded}/${sample.length}`,
    };
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
