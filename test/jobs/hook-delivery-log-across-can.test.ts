import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HookRecord } from '../../src/workflows/hook-outbox.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * HookDelivery continued as new without its `log` (before session 33), so
 * GET /jobs/{id}/hooks loses the attempts its earlier runs made (docs/architecture.md: the hook log
 * lists "each attempt's time and HTTP status or error").
 *
 * Temporal suggests continue-as-new at 4 MB of history: a job whose parameters are large (each
 * attempt writes the event, its parameters with it, into HookDelivery's history) gets there after a
 * dozen failed attempts.
 */
describe('the hook log of a HookDelivery that continued as new', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        max_body_bytes: 2 * 1024 * 1024,
        job: { hook_retry_initial_ms: 100, hook_retry_max_seconds: 1, hook_drain_ms: 500, checkin_min_interval_ms: 20 },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('keeps the attempts made before the hand-over to the next run (GET …/hooks shows every attempt, up to 20 an event)', async () => {
    const hookPath = 'outage';
    receiver.setDown(true);
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: `demo-${'x'.repeat(300_000)}`, step_ms: 0, hold_ms: 0 },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success');
    const deliveryId = `${job.id}-hooks-${done.revision}`;
    await waitFor(
      async () => (await h.client.workflow.count(`WorkflowId = '${deliveryId}' AND ExecutionStatus = 'ContinuedAsNew'`)).count,
      (n) => n >= 1,
      { timeoutMs: 120_000, intervalMs: 500, what: `${deliveryId} to continue as new` },
    );
    receiver.setDown(false);
    await waitFor(
      async () => receiver.accepted(hookPath),
      (events) => events.some((e) => e.status === 'Success'),
      { timeoutMs: 60_000, what: 'the Success hook once the receiver is back' },
    );
    await waitFor(
      () => h.client.workflow.getHandle(deliveryId).describe(),
      (d) => d.status.name === 'COMPLETED',
      { timeoutMs: 30_000, what: 'the HookDelivery to complete' },
    );

    // POSTs the receiver got, per event id.
    const posts = new Map<string, number>();
    for (const r of receiver.requests(hookPath)) {
      const id = String(r.headers['x-jobservice-event-id']);
      posts.set(id, (posts.get(id) ?? 0) + 1);
    }
    const response = await h.request('GET', `/api/v1/jobs/${job.id}/hooks`);
    assert.equal(response.status, 200);
    const log = ((await response.json()) as { events: HookRecord[] }).events;
    const shown = log.map(
      (r) =>
        `${r.id} ${r.status}${r.check_in ? '(ci)' : ''} ${r.outcome}: ${r.attempts.length} attempts shown, ${posts.get(r.id) ?? 0} POSTed`,
    );
    for (const record of log) {
      if (record.outcome === 'replaced') continue;
      const posted = posts.get(record.id) ?? 0;
      assert.equal(
        record.attempts.length,
        Math.min(posted, 20),
        `the hook log shows ${record.attempts.length} attempts of ${record.id} (${record.status}); the receiver got ${posted} POSTs of it:\n${shown.join('\n')}`,
      );
    }
  });
});
