import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HookRecord } from '../../src/workflows/hook-outbox.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startEventReceiver, type EventReceiver } from '../helpers/event-receiver.js';

/**
 * A refused check-in gives way to the event behind it "as Harbor drops a failed check-in once a
 * later event is through" (docs/architecture.md): Harbor drops a failed check-in's retry only when
 * the stored ack is newer. It was dropped as soon as anything was queued behind it, even when that
 * later event was refused too (the receiver was merely down): never retried, never delivered.
 */
describe('a refused check-in and the event queued behind it', () => {
  let h: Harness;
  let receiver: EventReceiver;
  let url = '';
  /** Answers 200 to plain Running events only, 503 to the rest, until `open`. */
  let open = false;
  const seen: { status: string; checkIn?: string; answered: number }[] = [];
  before(async () => {
    receiver = await startEventReceiver((event, res) => {
      const ok = open || (event.status === 'Running' && event.check_in === undefined);
      seen.push({ status: event.status, ...(event.check_in !== undefined ? { checkIn: event.check_in } : {}), answered: ok ? 200 : 503 });
      res.writeHead(ok ? 200 : 503).end(ok ? '' : 'core is restarting');
    });
    url = receiver.url;
    h = await createHarness({
      config: testConfig({ job: { hook_retry_initial_ms: 200, hook_retry_max_seconds: 1, hook_drain_ms: 10_000 } }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('is not dropped while the later event has not been delivered either', async () => {
    const job = await h.submit({
      name: 'TEST_CHATTY',
      parameters: { count: 1, interval_ms: 0 },
      status_hook: url,
      metadata: { kind: 'Generic' },
    });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    // The check-in was refused, and the Success behind it has been refused twice: nothing after the check-in is through.
    await waitFor(
      async () => seen,
      (s) =>
        s.some((r) => r.checkIn !== undefined && r.answered === 503) &&
        s.filter((r) => r.status === 'Success' && r.answered === 503).length >= 2,
      { timeoutMs: 20_000, what: 'the check-in refused and the Success refused twice' },
    );
    const log = ((await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as { events: HookRecord[] }).events;
    const checkIn = log.find((r) => r.check_in !== undefined);
    assert.ok(checkIn, `a check-in event in the hook log: ${JSON.stringify(log)}`);
    const requests = seen.map((r) => `${r.status}${r.checkIn ? `(ci ${r.checkIn})` : ''}=${r.answered}`).join(', ');
    assert.notEqual(
      checkIn.outcome,
      'replaced',
      `the check-in was dropped after ${checkIn.attempts.length} attempt(s) though no later event got through; receiver saw: ${requests}`,
    );
    // The receiver is back: the check-in goes, then the Success behind it.
    open = true;
    await waitFor(
      async () => seen.filter((r) => r.answered === 200 && r.status !== 'Running'),
      (ok) => ok.some((r) => r.status === 'Success'),
      { timeoutMs: 20_000, what: 'the Success delivered' },
    );
    const delivered = seen.filter((r) => r.answered === 200).map((r) => (r.checkIn !== undefined ? 'check-in' : r.status));
    assert.deepEqual(delivered, ['Running', 'check-in', 'Success'], `receiver saw: ${requests}`);
  });
});
