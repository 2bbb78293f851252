import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { HookEvent } from '../../src/shared/hook-event.js';
import type { HookRecord } from '../../src/workflows/hook-outbox.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startEventReceiver, type EventReceiver } from '../helpers/event-receiver.js';

/**
 * docs/architecture.md "Check-ins coalesce: ... a newer check-in with the same status replaces an
 * older one not yet being sent (the newest always goes out)". With a refused check-in parked at the
 * head, the check-in behind it is the one in flight: a newer check-in goes after it, not into it.
 */
describe('a check-in arriving while the one behind a parked check-in is in flight', () => {
  let h: Harness;
  let receiver: EventReceiver;
  let url = '';
  const seen: { status: string; checkIn?: string; answered: number }[] = [];
  let held: { res: ServerResponse; event: HookEvent } | undefined;
  let first: ServerResponse | undefined;
  before(async () => {
    receiver = await startEventReceiver((event, res) => {
      const ci = event.check_in;
      if (ci?.startsWith('1/')) {
        seen.push({ status: event.status, checkIn: ci, answered: 412 });
        // The first is refused once check-in 2/3 is queued behind it.
        if (!first) first = res;
        else res.writeHead(412).end('replication policy disabled');
        return;
      }
      if (ci?.startsWith('2/') && !seen.some((s) => s.checkIn?.startsWith('2/'))) {
        seen.push({ status: event.status, checkIn: ci, answered: 200 });
        held = { res, event }; // answered once the next check-in is queued
        return;
      }
      seen.push({ status: event.status, ...(ci !== undefined ? { checkIn: ci } : {}), answered: 200 });
      res.writeHead(200).end();
    });
    url = receiver.url;
    h = await createHarness({
      config: testConfig({
        job: {
          hook_retry_initial_ms: 20_000,
          hook_retry_max_seconds: 20,
          hook_drain_ms: 30_000,
          checkin_min_interval_ms: 0,
          hook_timeout_seconds: 30,
        },
      }),
    });
  });
  after(async () => {
    held?.res.writeHead(200).end();
    if (first && !first.headersSent) first.writeHead(412).end();
    await h.close();
    await receiver.close();
  });

  it('still delivers the newest check-in', async () => {
    const job = await h.submit({
      name: 'TEST_CHATTY',
      parameters: { count: 3, interval_ms: 2000 },
      status_hook: url,
      metadata: { kind: 'Generic' },
    });
    const hooks = async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as { events: HookRecord[] }).events;
    await waitFor(
      async () => first,
      (x) => x !== undefined,
      { timeoutMs: 30_000, what: 'check-in 1/3 in flight' },
    );
    await waitFor(hooks, (events) => events.some((e) => e.check_in?.startsWith('2/')), { timeoutMs: 30_000, what: 'check-in 2/3 queued' });
    first!.writeHead(412).end('replication policy disabled');
    await waitFor(
      async () => held,
      (x) => x !== undefined,
      { timeoutMs: 30_000, what: 'check-in 2/3 in flight' },
    );
    // The job checks in 3/3 while 2/3 is in flight: wait until the outbox holds it.
    await waitFor(
      async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as { events: HookRecord[] }).events,
      (events) => events.some((e) => e.check_in?.startsWith('3/')),
      { timeoutMs: 30_000, what: 'check-in 3/3 queued' },
    );
    held!.res.writeHead(200).end();
    held = undefined;
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    await waitFor(
      async () => seen,
      (s) => s.some((r) => r.status === 'Success'),
      { timeoutMs: 60_000, what: 'Success delivered' },
    );
    const log = ((await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as { events: HookRecord[] }).events;
    const sent = seen.map((r) => `${r.status}${r.checkIn ? `(ci ${r.checkIn})` : ''}=${r.answered}`).join(', ');
    assert.ok(
      seen.some((r) => r.checkIn?.startsWith('3/') && r.answered === 200),
      `the newest check-in 3/3 never reached the receiver; receiver saw: ${sent}; log: ${JSON.stringify(log.map((e) => [e.id, e.check_in, e.outcome, e.attempts.length]))}`,
    );
  });
});
