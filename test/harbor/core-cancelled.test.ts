/**
 * Harbor core compatibility: core's task table knows six statuses, and an unknown one (code -1)
 * never moves a task on (src/pkg/task/dao/task.go UpdateStatus). A job cancelled here (the `cancel`
 * action, a workflow cancel in the Web UI) reaches core's hook path as `Stopped`, so core's task
 * ends; other receivers, and the REST API, keep `Cancelled`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

describe('a cancelled job as Harbor core hears of it', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  const cancelled = async (path: string, how: 'action' | 'workflow') => {
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-cancel', step_ms: 30_000 },
      metadata: { kind: 'Generic' },
      status_hook: receiver.url(path),
    });
    await h.waitForStatus(job.id, ['Running']);
    if (how === 'action') assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'cancel' })).status, 204);
    else await h.client.workflow.getHandle(job.id).cancel();
    assert.equal((await h.waitForStatus(job.id, ['Cancelled'], 15_000)).status, 'Cancelled');
    const events = await waitFor(
      async () => receiver.accepted(path),
      (list) => list.some((e) => e.status !== 'Running'),
      { what: `the final hook on ${path}` },
    );
    return events.filter((e) => e.status !== 'Running');
  };

  it('reaches core’s hook path as Stopped, after the cancel action and after a workflow cancel', async () => {
    for (const how of ['action', 'workflow'] as const) {
      const path = `service/notifications/tasks/${how === 'action' ? 41 : 42}`;
      const finals = await cancelled(path, how);
      assert.deepEqual(
        finals.map((e) => [e.status, e.metadata.status]),
        [['Stopped', 'Stopped']],
      );
    }
  });

  it('reaches any other receiver as Cancelled', async () => {
    const finals = await cancelled('hooks/cancelled', 'action');
    assert.deepEqual(
      finals.map((e) => [e.status, e.metadata.status]),
      [['Cancelled', 'Cancelled']],
    );
  });
});
