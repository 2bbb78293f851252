import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

describe('a hook receiver that hangs and the types with a concurrency limit', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    const config = testConfig({
      // Two hook deliveries at once per worker, so two hanging hooks fill them.
      worker_pool: { housekeeping_workers: 2 },
      job: { hook_timeout_seconds: 30, concurrency_limits: { DEMO: 1 } },
    });
    h = await createHarness({
      config,
      registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: config.job.concurrency_limits }),
    });
  });
  after(async () => {
    await receiver.close();
    await h.close();
  });

  it('a limited job gets in line and runs at once while every hook delivery slot waits on the receiver', async () => {
    receiver.setHanging(true);
    for (let i = 0; i < 4; i++) {
      await h.submit({ name: 'NOOP', parameters: {}, status_hook: receiver.url(`hang-${i}`), metadata: { kind: 'Generic' } });
    }
    await waitFor(
      async () => [0, 1, 2, 3].reduce((sum, i) => sum + receiver.hung(`hang-${i}`), 0),
      (hung) => hung >= 2,
      { what: 'both hook delivery slots held by the hanging receiver' },
    );
    const started = Date.now();
    const demo = await h.submit({ name: 'DEMO', parameters: { image: 'demo-x', step_ms: 0, hold_ms: 0 }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(demo.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    // The hanging POSTs time out after 30 s: a DEMO waiting behind them would take that long.
    const took = Date.now() - started;
    assert.ok(took < 15_000, `the DEMO (limit 1, nothing else of its type running) took ${took} ms`);
  });
});
