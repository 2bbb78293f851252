import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/** `name{labels} value` lines of a Prometheus text exposition, keyed by `name{labels}`. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

describe('Harbor’s jobservice metrics, served by the worker process', () => {
  let h: Harness;
  let url: string;
  before(async () => {
    const port = await freePort();
    h = await createHarness({ config: testConfig({ metric: { enabled: true, port, path: '/metrics' } }) });
    url = `http://127.0.0.1:${port}/metrics`;
  });
  after(async () => {
    await h.close();
  });

  it('counts runs by job name and Harbor’s outcome, with their process time', async () => {
    const ok = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-metrics', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    const failing = await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: { kind: 'Generic' } });
    const stopped = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 60_000, checkin_every_ms: 100 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(ok.id, ['Success']);
    await h.waitForStatus(failing.id, ['Error']);
    await h.waitForStatus(stopped.id, ['Running']);
    assert.equal((await h.request('POST', `/api/v1/jobs/${stopped.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(stopped.id, ['Stopped']);

    const scrape = async () => {
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return samples(await response.text());
    };
    const m = await waitFor(scrape, (s) => s.get('harbor_jobservice_task_total{type="NOOP",status="stop"}') === 1, {
      what: 'the stopped run to be counted',
    });
    assert.equal(m.get('harbor_jobservice_task_total{type="DEMO",status="success"}'), 1);
    // TEST_FAIL allows two runs: both failed.
    assert.equal(m.get('harbor_jobservice_task_total{type="TEST_FAIL",status="fail"}'), 2);
    assert.equal(m.get('harbor_jobservice_task_process_time_seconds_count{type="TEST_FAIL",status="fail"}'), 2);
    const stopSeconds = m.get('harbor_jobservice_task_process_time_seconds_sum{type="NOOP",status="stop"}')!;
    assert.ok(stopSeconds > 0 && stopSeconds < 60, `a stopped run took ${stopSeconds} s`);
    const info = [...m.keys()].find((k) => k.startsWith('harbor_jobservice_info{'));
    assert.match(info ?? '', /workers="10"/);
    assert.equal(m.get(info!), 1);
    assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
  });

  it('refuses a metric path that is not an absolute URL path', () => {
    const base = { job_loggers: [{ name: 'STD_OUTPUT' }], loggers: [{ name: 'STD_OUTPUT' }] };
    const parse = (metric: unknown) => ConfigSchema.safeParse({ ...base, metric });
    assert.equal(parse({ enabled: false }).success, true);
    assert.deepEqual(parse({ enabled: true }).data?.metric, { enabled: true, path: '/metrics', port: 8001 });
    assert.equal(parse({ enabled: true, path: 'metrics' }).success, false);
    assert.equal(parse({ enabled: true, port: 70000 }).success, false);
    assert.equal(parse({ enabled: true, pathh: '/metrics' }).success, false);
  });
});
