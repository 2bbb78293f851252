import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HookEventSchema } from '../../src/api/contract.js';
import type { HookEvent } from '../../src/shared/hook-event.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

const statusOrder = ['Running', 'Stopped', 'Error', 'Success', 'Cancelled'];

describe('status hooks, delivered to a real HTTP receiver in order', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        // One job slot: hook deliveries must not need it.
        worker_pool: { workers: 1 },
        job: {
          stop_grace_seconds: 2,
          heartbeat_timeout_seconds: 5,
          checkin_min_interval_ms: 100,
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

  const path = () => randomBytes(6).toString('hex');
  const submit = (
    name: string,
    parameters: Record<string, unknown>,
    hookPath: string,
    metadata: Record<string, unknown> = { kind: 'Generic' },
  ) => h.submit({ name, parameters, status_hook: receiver.url(hookPath), metadata });

  it('cuts a check-in of megabytes to 128 Ki characters, and the job still ends and says so in its hook', async () => {
    // 3 MB made every workflow task of the job fail as too large: it read Pending for good and a stop could not reach it.
    const hookPath = path();
    const job = await submit('TEST_CHATTY', { count: 2, interval_ms: 0, pad: 3_000_000 }, hookPath);
    const done = await h.waitForStatus(job.id, ['Success', 'Error', 'Stopped'], 60_000);
    assert.equal(done.status, 'Success');
    assert.equal(done.check_in?.length, 128 * 1024);
    assert.ok(done.check_in?.startsWith('2/2xxx'));
    assert.match(done.check_in?.slice(-40) ?? '', /x…\[2868931 more characters cut\]$/);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.equal(events[events.length - 1]!.metadata.check_in?.length, 128 * 1024);
  });

  it('sends Running, the check-ins and the final status, in order, with Harbor’s payload', async () => {
    const hookPath = path();
    const job = await submit('TEST_CHATTY', { count: 5, interval_ms: 150 }, hookPath);
    await h.waitForStatus(job.id, ['Success']);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Success'),
      {
        what: 'the Success hook',
      },
    );
    assert.equal(events[0]!.status, 'Running');
    assert.equal(events[events.length - 1]!.status, 'Success');
    assert.equal(events.filter((e) => e.status === 'Success').length, 1);
    const checkIns = events.filter((e) => e.check_in !== undefined);
    assert.ok(checkIns.length >= 1, 'at least one check-in event');
    assert.equal(checkIns[checkIns.length - 1]!.check_in, '5/5', 'the last check-in always goes out');
    for (const e of events) {
      assert.equal(e.job_id, job.id);
      assert.equal(e.metadata.id, job.id);
      assert.equal(e.metadata.status, e.status);
      assert.equal(e.metadata.web_hook_url, receiver.url(hookPath));
    }
    // Check-ins arrive in the order the job made them.
    const counts = checkIns.map((e) => Number(e.check_in!.split('/')[0]));
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
    );
    assertInOrder(events);
  });

  it('coalesces check-ins behind a slow receiver: fewer events, the newest always delivered, order kept', async () => {
    const hookPath = path();
    receiver.setDelayMs(400);
    try {
      const job = await submit('TEST_CHATTY', { count: 40, interval_ms: 50 }, hookPath);
      await h.waitForStatus(job.id, ['Success']);
      const events = await waitFor(
        async () => receiver.accepted(hookPath),
        (e) => e.some((x) => x.status === 'Success'),
        {
          what: 'the Success hook',
        },
      );
      const checkIns = events.filter((e) => e.check_in !== undefined).map((e) => Number(e.check_in!.split('/')[0]));
      // ~2 s of check-ins, one signal per 100 ms at most, against one delivery per 400 ms.
      assert.ok(checkIns.length >= 1 && checkIns.length <= 8, `check-in events: ${checkIns.join(',')}`);
      assert.equal(checkIns[checkIns.length - 1], 40, 'the newest check-in went out');
      assert.deepEqual(
        checkIns,
        [...checkIns].sort((a, b) => a - b),
      );
      assertInOrder(events);
    } finally {
      receiver.setDelayMs(0);
    }
  });

  it('keeps retrying while the receiver is down, then delivers every event in order; the job does not wait', async () => {
    const hookPath = path();
    receiver.setDown(true);
    try {
      const job = await submit('TEST_CHATTY', { count: 3, interval_ms: 300 }, hookPath);
      // The job finishes on its own while its hooks fail.
      await h.waitForStatus(job.id, ['Success']);
      await waitFor(
        async () => receiver.refused(hookPath),
        (n) => n >= 3,
        { what: 'refused attempts' },
      );
      // After the drain period the job closes and a HookDelivery workflow carries the rest.
      const delivery = await waitFor(
        async () => {
          const found = [];
          for await (const w of h.client.workflow.list({
            query: `WorkflowType = 'HookDelivery' AND WorkflowId STARTS_WITH '${job.id}-hooks-'`,
          }))
            found.push(w);
          return found;
        },
        (found) => found.length === 1,
        { what: 'a HookDelivery workflow' },
      );
      // The job completes in the workflow task after the one that started its HookDelivery.
      const described = await waitFor(
        () => h.client.workflow.getHandle(job.id).describe(),
        (d) => d.status.name !== 'RUNNING',
        { what: 'the job to close after handing over its hooks' },
      );
      assert.equal(described.status.name, 'COMPLETED', 'the job itself closed');
      assert.equal(delivery[0]!.status.name, 'RUNNING');
    } finally {
      receiver.setDown(false);
    }
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Success'),
      {
        what: 'the events after the receiver came back',
      },
    );
    assert.equal(events[0]!.status, 'Running');
    assert.equal(events[events.length - 1]!.status, 'Success');
    assertInOrder(events);
  });

  it('a receiver that never answers does not take a job’s slot', async () => {
    const hookPath = path();
    receiver.setHanging(true);
    try {
      const hooked = await submit('NOOP', {}, hookPath);
      await h.waitForStatus(hooked.id, ['Success']);
      await waitFor(
        async () => receiver.hung(hookPath),
        (n) => n >= 1,
        { what: 'a delivery hanging on the receiver' },
      );
      // The only job slot is free: another job runs while the delivery hangs.
      const other = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
      const done = await h.waitForStatus(other.id, ['Success'], 5000);
      assert.equal(done.status, 'Success');
      assert.equal(receiver.accepted(hookPath).length, 0);
    } finally {
      receiver.setHanging(false);
    }
  });

  it('reports a stop and names a periodic execution by Harbor’s <id>@<epoch>', async () => {
    const stopPath = path();
    const long = await submit('NOOP', { duration_ms: 60_000, checkin_every_ms: 200 }, stopPath);
    await waitFor(
      async () => receiver.accepted(stopPath),
      (e) => e.some((x) => x.status === 'Running'),
      { what: 'Running' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${long.id}`, { action: 'stop' })).status, 204);
    const stopped = await waitFor(
      async () => receiver.accepted(stopPath),
      (e) => e.some((x) => x.status === 'Stopped'),
      {
        what: 'the Stopped hook',
      },
    );
    assert.equal(stopped[stopped.length - 1]!.status, 'Stopped');
    assertInOrder(stopped);

    // An operator cancels the workflow itself (Web UI, `temporal workflow cancel`): the hook says Cancelled.
    const cancelPath = path();
    const cancelled = await submit('NOOP', { duration_ms: 60_000, checkin_every_ms: 200 }, cancelPath);
    await waitFor(
      async () => receiver.accepted(cancelPath),
      (e) => e.some((x) => x.status === 'Running'),
      { what: 'Running' },
    );
    await h.client.workflow.getHandle(cancelled.id).cancel();
    const cancelEvents = await waitFor(
      async () => receiver.accepted(cancelPath),
      (e) => e.some((x) => x.status === 'Cancelled'),
      {
        what: 'the Cancelled hook',
      },
    );
    assertInOrder(cancelEvents);

    const periodicPath = path();
    const periodic = await submit('TEST_CHATTY', { count: 1, interval_ms: 0 }, periodicPath, { kind: 'Periodic', cron_spec: '@yearly' });
    assert.equal((await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'trigger' })).status, 204);
    const fired = await waitFor(
      async () => receiver.accepted(periodicPath),
      (e) => e.some((x) => x.status === 'Success'),
      {
        what: 'the execution’s hooks',
      },
    );
    for (const e of fired) {
      assert.match(e.job_id, new RegExp(`^${periodic.id}@\\d+$`));
      // One id form per payload.
      assert.equal(e.metadata.id, e.job_id);
      assert.equal(e.metadata.ref_link, `/api/v1/jobs/${e.job_id}`);
      assert.equal(e.metadata.upstream_job_id, periodic.id);
    }
    assert.equal((await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'stop' })).status, 204);
    await h.client.schedule.getHandle(periodic.id).delete();
  });
});

/** Running (with its check-ins) first, then exactly one final status, and nothing after it; each event per the contract. */
function assertInOrder(events: HookEvent[]): void {
  for (const e of events) HookEventSchema.parse(e);
  const seen = events.map((e) => e.status).join(',');
  let finished = false;
  for (const e of events) {
    assert.ok(statusOrder.includes(e.status), `unexpected hook status ${e.status}`);
    assert.ok(!finished, `an event after the final status: ${seen}`);
    if (e.status !== 'Running') finished = true;
  }
  assert.ok(finished, `no final status: ${seen}`);
}
