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
