import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJob } from './http-post.js';
import { percentile, round } from './stats.js';
import { pool, until } from './processes.js';

/**
 * N WEBHOOK jobs, as Harbor core sends its notifications, to a receiver on loopback: submits by
 * C callers, completions/s, and submit → delivered latency (the receiver's clock, same process).
 */
export async function notificationsScenario(o: { base: string; headers: Record<string, string>; n: number; callers: number }) {
  const delivered = new Map<number, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { i } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number };
      if (!delivered.has(i)) delivered.set(i, Date.now());
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  const submitted = new Map<number, number>();
  const latencies: number[] = [];
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
      await postJob(`${o.base}/jobs`, o.headers, body);
      latencies.push(performance.now() - started);
      submitted.set(i, t);
    });
    const submitSeconds = (Date.now() - first) / 1000;
    await until(async () => delivered.size >= o.n, 1_800_000, 'every notification delivered', 200);
    const toDelivered = [...delivered].map(([i, at]) => at - submitted.get(i)!);
    const last = Math.max(...delivered.values());
    return {
      n: o.n,
      callers: o.callers,
      submit_per_s: round(o.n / submitSeconds),
      submit_p50_ms: round(percentile(latencies, 0.5)),
      submit_p99_ms: round(percentile(latencies, 0.99)),
      completions_per_s: round((o.n * 1000) / (last - first)),
      submit_to_delivered_p50_ms: round(percentile(toDelivered, 0.5)),
      submit_to_delivered_p99_ms: round(percentile(toDelivered, 0.99)),
    };
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
