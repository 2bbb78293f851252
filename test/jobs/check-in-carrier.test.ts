import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MEMO_STATE, type JobState } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

const demo = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'DEMO',
  parameters: { image: 'demo-carrier', ...params },
  metadata: { kind: 'Generic' },
  ...extra,
});

describe('check-ins: the one that reports Running is an update, later ones ride on heartbeats unless a status hook waits on them', () => {
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

  /** Check-ins the workflow took: updates (signals from older runs counted too). */
  const checkInReports = async (id: string) => {
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).filter(
      (e) =>
        e.workflowExecutionSignaledEventAttributes?.signalName === 'checkIn' ||
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'reportCheckIn',
    ).length;
  };

  it('GET shows the newest check-in while the workflow has recorded only the first; the final state keeps the last', async () => {
    const { id } = await h.submit(demo({ step_ms: 2500, hold_ms: 2500 }));
    const live = await waitFor(
      () => h.stats(id),
      (s) => s.status === 'Running' && s.check_in === '60%',
      { what: 'the second check-in in GET while the job runs', timeoutMs: 20_000 },
    );
    assert.ok(live.check_in_at !== undefined && live.check_in_at >= live.enqueue_time);
    const described = await h.client.workflow.getHandle(id).describe();
    const recorded = described.memo?.[MEMO_STATE] as JobState;
    assert.equal(recorded.check_in, '30%', 'the workflow recorded only the check-in that reported Running');
    assert.equal(described.searchAttributes.JobStatus?.[0], 'Running', 'the Web UI search attribute says Running');

    const done = await h.waitForStatus(id, ['Success'], 30_000);
    assert.equal(done.check_in, '100%', 'the run handed its last check-in back');
    assert.equal(await checkInReports(id), 1, 'one check-in report: the one that reported Running');
  });

  it('a DEMO with its defaults costs at most 12 state transitions', async () => {
    const { id } = await h.submit(demo({}));
    assert.equal((await h.waitForStatus(id, ['Success'], 30_000)).check_in, '100%');
    const described = await h.client.workflow.getHandle(id).describe();
    const transitions = Number(described.raw.workflowExecutionInfo?.stateTransitionCount ?? 0);
    assert.ok(transitions > 0 && transitions <= 12, `DEMO took ${transitions} state transitions`);
  });

  it('a job with a status hook reports every check-in, and each reaches the hook in order', async () => {
    const { id } = await h.submit(demo({ step_ms: 300, hold_ms: 300 }, { status_hook: receiver.url('carrier') }));
    assert.equal((await h.waitForStatus(id, ['Success'], 30_000)).check_in, '100%');
    assert.equal(await checkInReports(id), 3);
    const events = await waitFor(
      async () => receiver.accepted('carrier'),
      (list) => list.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.deepEqual(events.map((e) => e.check_in ?? '').filter(Boolean), ['30%', '60%', '100%']);
  });
});
