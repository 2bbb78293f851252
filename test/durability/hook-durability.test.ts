import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';

describe('status hooks across a worker killed with SIGKILL', () => {
  let h: Harness;
  let receiver: HookReceiver;
  const children: ChildProcess[] = [];
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      worker: false,
      config: testConfig({
        job: {
          stop_grace_seconds: 2,
          heartbeat_timeout_seconds: 5,
          hook_retry_initial_ms: 100,
          hook_retry_max_seconds: 1,
          // Keep the undelivered events in the job's own workflow for the whole test.
          hook_drain_ms: 120_000,
        },
      }),
    });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await h.close();
    await receiver.close();
  });

  it('loses no event: what was pending when the worker died goes out, in order, from the next worker', async () => {
    receiver.setDown(true);
    const first = spawnWorkerProcess(h.config, h.logDir);
    children.push(first);
    const job = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 600, checkin_every_ms: 100 },
      status_hook: receiver.url('crash'),
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Success'], 60_000);
    await waitFor(
      async () => receiver.refused('crash'),
      (n) => n >= 2,
      { what: 'refused deliveries' },
    );
    first.kill('SIGKILL');
    await exited(first);
    receiver.setDown(false);
    assert.deepEqual(receiver.accepted('crash'), [], 'nothing was delivered while the receiver was down');

    children.push(spawnWorkerProcess(h.config, h.logDir));
    const events = await waitFor(
      async () => receiver.accepted('crash'),
      (e) => e.some((x) => x.status === 'Success'),
      {
        timeoutMs: 60_000,
        what: 'the pending events from the new worker',
      },
    );
    assert.equal(events[0]!.status, 'Running');
    assert.equal(events[events.length - 1]!.status, 'Success');
    assert.ok(
      events.slice(0, -1).every((e) => e.status === 'Running'),
      events.map((e) => e.status).join(','),
    );
    assert.ok(
      events.some((e) => e.check_in !== undefined),
      'the check-ins survived too',
    );
    for (const e of events) assert.equal(e.job_id, job.id);
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.status.name === 'COMPLETED',
      {
        what: 'the job to close once its hooks are out',
      },
    );
  });
});
