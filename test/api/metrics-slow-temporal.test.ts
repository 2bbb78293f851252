import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import { buildApp } from '../../src/api/serve-app.js';
import { connectClient } from '../../src/temporal/connect.js';
import { temporalTarget } from '../../src/temporal/connection-options.js';
import { createHarness, TEST_SECRET, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { startProxy } from '../helpers/tcp-proxy.js';

/** The answer, or `undefined` if none came within `ms`. */
async function within(ms: number, answer: Promise<Response>): Promise<{ status: number; ms: number } | undefined> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    answer.then((r) => ({ status: r.status, ms: Date.now() - started })),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
  clearTimeout(timer);
  return result;
}

describe('GET /metrics when Temporal stops answering in the middle of a scrape', () => {
  let h: Harness;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let app: Hono;
  before(async () => {
    h = await createHarness({ worker: false });
    proxy = await startProxy(h.config.temporal.address!);
    // The API as served, talking to Temporal through a proxy the test can make hang.
    const client = await connectClient(temporalTarget(h.config, proxy.address));
    app = buildApp(h.config, client, testRegistry()) as unknown as Hono;
  });
  after(async () => {
    await proxy.close();
    await h.close();
  });

  it('a 3 s stall of Temporal mid-scrape: scrapes after Temporal is back still hang (the hung render is shared), where every other route recovers at once', async () => {
    // The queue gauges are read first and come back; Temporal stalls once the batch gauges' listing goes out.
    proxy.blackholeOn = "ExecutionStatus != 'ContinuedAsNew'";
    const first = within(30_000, Promise.resolve(app.request('/metrics')));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(proxy.mode, 'blackhole', 'the batch gauges were being read');
    // Temporal answers again.
    proxy.blackholeOn = undefined;
    proxy.mode = 'pass';
    const queues = await within(
      30_000,
      Promise.resolve(app.request('/api/v1/queues', { headers: { authorization: `Harbor-Secret ${TEST_SECRET}` } })),
    );
    assert.equal(queues?.status, 200, `GET /api/v1/queues once Temporal is back: ${JSON.stringify(queues)}`);
    // Prometheus' next scrape, with its default 10 s scrape timeout.
    const next = await within(30_000, Promise.resolve(app.request('/metrics')));
    assert.ok(
      next !== undefined && next.ms < 10_000,
      `a scrape started after Temporal was back: ${next ? `${next.status} after ${next.ms} ms` : 'no answer within 30 s'} (GET /api/v1/queues: ${queues?.status} in ${queues?.ms} ms)`,
    );
    // Nor does the scrape that met the stall give up at the 10 s every other Temporal read is bounded by.
    const a = await first;
    assert.ok(
      a !== undefined && a.ms < 15_000,
      `the scrape that met the stall: ${a ? `${a.status} after ${a.ms} ms` : 'no answer within 30 s'}`,
    );
  });
});
