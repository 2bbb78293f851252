import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { samples } from '../helpers/prometheus-text.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { startDemoWithRefusedParameters } from '../helpers/refused-run.js';

describe('Harbor’s jobservice metrics, served by the worker process', () => {
  let h: Harness;
  let url: string;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    const port = await freePort();
    h = await createHarness({ config: testConfig({ metric: { enabled: true, port, path: '/metrics' } }) });
    url = `http://127.0.0.1:${port}/metrics`;
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('counts runs by job name and Harbor’s outcome, with their process time', async () => {
    const ok = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-metrics', step_ms: 0, hold_ms: 0 },
      status_hook: receiver.url('metrics'),
      metadata: { kind: 'Generic' },
    });
    const periodic = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '@yearly' } });
    assert.equal((await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'trigger' })).status, 204);
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
    // Ours beside Harbor's: waits before runs started, periodic fires' lateness, hook deliveries.
    assert.ok(m.get('harbor_jobservice_task_start_latency_seconds_count{type="DEMO"}')! >= 1);
    const fires = await waitFor(scrape, (s) => s.get('harbor_jobservice_schedule_fire_lateness_seconds_count{type="NOOP"}') === 1, {
      what: 'the periodic fire to be measured',
    });
    const late = fires.get('harbor_jobservice_schedule_fire_lateness_seconds_sum{type="NOOP"}')!;
    assert.ok(late >= 0 && late < 30, `a triggered fire started ${late} s late`);
    const hooks = await waitFor(scrape, (s) => (s.get('harbor_jobservice_hook_deliveries_total{result="delivered"}') ?? 0) >= 2, {
      what: 'the DEMO job’s hooks counted',
    });
    assert.equal(hooks.get('harbor_jobservice_hook_deliveries_total{result="failed"}') ?? 0, 0);
    await h.client.schedule.getHandle(periodic.id).delete();
    assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
  });

  it('counts a run refused for its parameters at run time as a failed run, as Harbor does', async () => {
    const before = samples(await (await fetch(url)).text()).get('harbor_jobservice_task_total{type="DEMO",status="fail"}') ?? 0;
    // A workflow started with parameters DEMO refuses (a schedule or retry from before a schema change, a hand start).
    const id = await startDemoWithRefusedParameters(h);
    assert.equal((await h.waitForStatus(id, ['Error', 'Success'])).status, 'Error');
    await waitFor(
      async () => samples(await (await fetch(url)).text()).get('harbor_jobservice_task_total{type="DEMO",status="fail"}') ?? 0,
      (n) => n === before + 1,
      { what: 'the refused run counted as failed' },
    );
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
