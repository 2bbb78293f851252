import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { Harness } from '../helpers/harness.js';
import { periodicSuite } from '../helpers/schedules.js';
import { updateScheduleWithCli } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait-for.js';
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
      return original.call(service, request);
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
  const { periodic } = periodicSuite((harness) => (h = harness));
  const act = async (id: string, action: string) => (await h.request('POST', `/api/v1/jobs/${id}`, { action })).status;

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
    assert.equal(shown.paused_note, 'jobservice: stopped');
  });

  it('a pause whose every write another write beats gives up with 409, and leaves the schedule as the others wrote it', async () => {
    const job = await periodic('@yearly');
    const handle = h.client.schedule.getHandle(job.id);
    let meddled = 0;
    const restore = beforeNextWrite(
      h.client,
      job.id,
      async () => {
        meddled++;
        await handle.update((s) => ({ ...s, state: { ...s.state, note: `operator note ${meddled}` } }));
        await waitFor(
          () => handle.describe(),
          (d) => d.state.note === `operator note ${meddled}`,
          { what: "the other writer's note" },
        );
      },
      100,
    );
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
    assert.equal(meddled, 5);
    const shown = await h.stats(job.id);
    assert.equal(shown.paused, false);
    assert.equal(shown.status, 'Scheduled');
  });
});
