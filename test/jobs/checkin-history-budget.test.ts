import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

describe("a chatty job with a status hook stays within its history's budget", () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({ job: { checkin_min_interval_ms: 20, checkin_history_events: 100, hook_retry_initial_ms: 100 } }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('past job.checkin_history_events its check-ins ride on heartbeats: stats and the final hook still carry the last', async () => {
    // As updates with hooks, 60 check-ins cost ~12 events each: ~700 events. Temporal ends a workflow at 51,200.
    const job = await h.submit({
      name: 'TEST_CHATTY',
      parameters: { count: 60, interval_ms: 40 },
      status_hook: receiver.url('budget'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success');
    assert.equal(done.check_in, '60/60');
    const events = await waitFor(
      async () => receiver.accepted('budget'),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.equal(events[events.length - 1]!.metadata.check_in, '60/60', 'the final hook carries the last check-in');
    const checkInHooks = events.filter((e) => e.check_in !== undefined).length;
    assert.ok(checkInHooks < 30, `check-in hooks stopped at the budget (${checkInHooks} of 60)`);
    const history = await h.client.workflow.getHandle(job.id).fetchHistory();
    assert.ok((history.events?.length ?? 0) < 250, `history stayed near its budget: ${history.events?.length} events`);
    assert.match(readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'), /history has taken its share of check-ins/);
  });
});

describe("a job with a status hook stays within its history's size budget (job.history_budget_mb)", () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: {
          checkin_min_interval_ms: 20,
          history_budget_mb: 0.25,
          hook_retry_initial_ms: 100,
          hook_retry_max_seconds: 1,
          hook_drain_ms: 1000,
        },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });
  const historyBytes = async (id: string) => Number((await h.client.workflow.getHandle(id).describe()).historySize);

  it('large check-ins ride on heartbeats once the history passes its size', async () => {
    // ~20 KB a check-in, written into the history four times over (update, memo, the hook's input): ~3 MB unbounded.
    const job = await h.submit({
      name: 'TEST_CHATTY',
      parameters: { count: 40, interval_ms: 40, pad: 20_000 },
      status_hook: receiver.url('size'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success');
    const events = await waitFor(
      async () => receiver.accepted('size'),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.ok(events.at(-1)!.metadata.check_in?.startsWith('40/40'), 'the final hook carries the last check-in');
    const checkInHooks = events.filter((e) => e.check_in !== undefined).length;
    assert.ok(checkInHooks < 20, `check-in hooks stopped at the budget (${checkInHooks} of 40)`);
    const bytes = await historyBytes(job.id);
    assert.ok(bytes < 1_000_000, `history stayed near its budget: ${bytes} bytes`);
  });

  it('a failing hook of a job with large parameters waits for the job’s end, then HookDelivery delivers it', async () => {
    receiver.setDown(true);
    // Each attempt writes the event (the job's 50 KB parameters with it) into the history again.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: `demo-${'x'.repeat(50_000)}`, step_ms: 0, hold_ms: 8000 },
      status_hook: receiver.url('outage'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success');
    await waitFor(
      () => h.client.workflow.count(`WorkflowId = '${job.id}-hooks-${done.revision}'`),
      (r) => r.count === 1,
      { what: 'the HookDelivery workflow' },
    );
    const bytes = await historyBytes(job.id);
    assert.ok(bytes < 600_000, `the job's history stopped growing with retries: ${bytes} bytes`);
    receiver.setDown(false);
    const delivered = await waitFor(
      async () => receiver.accepted('outage'),
      (events) => events.some((e) => e.status === 'Success'),
      { what: 'the hooks delivered once the receiver is back', timeoutMs: 30_000 },
    );
    // Status changes in order; check-in events (status Running, coalesced) may come between.
    assert.deepEqual(
      delivered.filter((e) => e.check_in === undefined).map((e) => e.status),
      ['Running', 'Success'],
    );
  });
});
