import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { Harness } from '../helpers/harness.js';
import { periodicSuite } from '../helpers/schedules.js';
import { updateScheduleWithCli } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { startHookReceiver } from '../helpers/hook-receiver.js';
import { checkScheduleHealth } from '../../src/activities/check-schedule-health.js';

/**
 * Runs `meanwhile` just before the API's next write to schedule `id` reaches Temporal: the write
 * was computed from a read taken before `meanwhile`'s change, as when two writers race. The next
 * `writes` writes, when given (`meanwhile`'s own go through).
 */
function beforeNextWrite(client: Client, id: string, meanwhile: () => Promise<void>, writes = 1): () => void {
  const service = client.workflowService;
  const { updateSchedule, patchSchedule } = service;
  let inside = false;
  const restore = () => {
    service.updateSchedule = updateSchedule;
    service.patchSchedule = patchSchedule;
  };
  const intercepted = <R extends { scheduleId?: string | null }, T>(original: (request: R) => Promise<T>) =>
    (async (request: R) => {
      if (request.scheduleId === id && !inside && writes-- > 0) {
        if (writes === 0) restore();
        inside = true;
        await meanwhile().finally(() => (inside = false));
      }
      // The write's deadline was set as it was called; `meanwhile` (a whole stop, seconds on a
      // loaded machine) stands for a writer that came first, not for time this write spent.
      return client.withDeadline(Date.now() + 10_000, () => original.call(service, request));
    }) as typeof original;
  service.updateSchedule = intercepted(updateSchedule) as typeof updateSchedule;
  service.patchSchedule = intercepted(patchSchedule) as typeof patchSchedule;
  return restore;
}

/**
 * A schedule is written whole (`UpdateSchedule`): a pause or stop that writes back what it read
 * would undo a write that landed between its read and its write. Each writes under the conflict
 * token of its read, and computes its change again from what the schedule is when that was refused.
 */
describe('writes to a periodic job’s schedule that race another writer', () => {
  let h: Harness;
  const { periodic, created } = periodicSuite((harness) => (h = harness));
  const act = async (id: string, action: string) => (await h.request('POST', `/api/v1/jobs/${id}`, { action })).status;
  /** Another writer changes the schedule's note, and it has taken. */
  let meddled = 0;
  const noteByOperator = async (id: string) => {
    const handle = h.client.schedule.getHandle(id);
    const note = `operator note ${++meddled}`;
    await handle.update((s) => ({ ...s, state: { ...s.state, note } }));
    await waitFor(
      () => handle.describe(),
      (d) => d.state.note === note,
      { what: "the other writer's note" },
    );
  };

  it('a pause keeps the times an operator set meanwhile (`temporal schedule update`)', async () => {
    const job = await periodic('@yearly');
    const restore = beforeNextWrite(h.client, job.id, async () => {
      updateScheduleWithCli(
        h.config.temporal.address!,
        h.config.temporal.task_queue,
        job.id,
        '*/10 * * * *',
        '--overlap-policy',
        'AllowAll',
      );
      await waitFor(
        () => h.stats(job.id),
        (s) => s.cron_spec === '0 */10 * * * *',
        { what: "the operator's update applied" },
      );
    });
    try {
      assert.equal(await act(job.id, 'pause'), 204);
    } finally {
      restore();
    }
    const paused = await waitFor(
      () => h.stats(job.id),
      (s) => s.paused === true,
      { what: 'the pause applied' },
    );
    assert.equal(paused.cron_spec, '0 */10 * * * *', "the operator's times stand");
  });

  it('a pause that loses to a stop does not revive the job: it answers 409 and the job stays Stopped', async () => {
    const job = await periodic('@yearly', {}, { duration_ms: 0 });
    let stopped = 0;
    const restore = beforeNextWrite(h.client, job.id, async () => {
      stopped = await act(job.id, 'stop');
    });
    let paused: number;
    try {
      paused = await act(job.id, 'pause');
    } finally {
      restore();
    }
    assert.equal(stopped, 204);
    assert.equal(paused, 409);
    const shown = await h.stats(job.id);
    assert.equal(shown.status, 'Stopped');
    assert.equal(shown.paused, true);
  });

  it('a pause after failures (pause_after_failures) that loses to a stop leaves the job Stopped', async () => {
    const job = await periodic('@yearly', {}, { duration_ms: 0 });
    let stopped = 0;
    const restore = beforeNextWrite(h.client, job.id, async () => {
      stopped = await act(job.id, 'stop');
    });
    let result: Awaited<ReturnType<typeof checkScheduleHealth>>;
    try {
      result = await checkScheduleHealth(
        { client: h.client },
        { scheduleId: job.id, jobName: 'NOOP', executionId: `${job.id}@1`, lastError: 'failed', pauseAfter: 1 },
      );
    } finally {
      restore();
    }
    assert.equal(stopped, 204);
    assert.equal(result.paused, false, 'the stop paused it, not the failures');
    const shown = await h.stats(job.id);
    assert.equal(shown.status, 'Stopped');
    assert.match(shown.paused_note ?? '', /^jobservice: stopped at /);
  });

  it('a pause whose every write another write beats gives up with 409, and leaves the schedule as the others wrote it', async () => {
    const job = await periodic('@yearly');
    const before = meddled;
    const restore = beforeNextWrite(h.client, job.id, () => noteByOperator(job.id), 100);
    let response: Response;
    try {
      response = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'pause' });
    } finally {
      restore();
    }
    assert.equal(response.status, 409);
    const body = (await response.json()) as { code: number; description: string };
    assert.equal(body.code, 10012);
    assert.match(body.description, /kept changing/);
    assert.equal(meddled - before, 5);
    const shown = await h.stats(job.id);
    assert.equal(shown.paused, false);
    assert.equal(shown.status, 'Scheduled');
  });

  for (const action of ['pause', 'stop']) {
    it(`a ${action} whose schedule is deleted between its read and its write answers 404`, async () => {
      const job = await periodic('@yearly');
      const restore = beforeNextWrite(h.client, job.id, () => h.client.schedule.getHandle(job.id).delete());
      let response: Response;
      try {
        response = await h.request('POST', `/api/v1/jobs/${job.id}`, { action });
      } finally {
        restore();
      }
      assert.equal(response.status, 404, await response.text());
    });
  }

  it('a pause whose last write takes (other writes beat the four before it) answers 204', async () => {
    const job = await periodic('@yearly');
    const restore = beforeNextWrite(h.client, job.id, () => noteByOperator(job.id), 4);
    let status: number;
    try {
      status = await act(job.id, 'pause');
    } finally {
      restore();
    }
    assert.equal((await h.stats(job.id)).paused, true);
    assert.equal(status, 204);
  });

  it('of two stops racing, only the one whose write took posts the Stopped hook', async () => {
    const receiver = await startHookReceiver();
    try {
      const job = await h.submit({
        name: 'NOOP',
        parameters: {},
        status_hook: receiver.url('race'),
        metadata: { kind: 'Periodic', cron_spec: '@yearly' },
      });
      created.push(job.id);
      const hookRun = () => h.client.workflow.getHandle(`${job.id}-hooks-stopped`).describe();
      let first = 0;
      let firstHookRun: string | undefined;
      // The other stop (core retrying its request) runs whole, its hook delivered, before this one's write.
      const restore = beforeNextWrite(h.client, job.id, async () => {
        first = await act(job.id, 'stop');
        firstHookRun = (await waitFor(hookRun, (d) => d.status.name === 'COMPLETED', { what: "the first stop's hook delivered" })).runId;
      });
      let second: number;
      try {
        second = await act(job.id, 'stop');
      } finally {
        restore();
      }
      assert.equal(first, 204);
      assert.equal(second, 204);
      // A second delivery would be a new run under the same id, started before the stop answered.
      assert.equal((await hookRun()).runId, firstHookRun, 'one hook delivery, the first stop’s');
      assert.equal(receiver.accepted('race').filter((e) => e.status === 'Stopped').length, 1);
    } finally {
      await receiver.close();
    }
  });
});
