import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A status hook receiver (Harbor core) that is slow to take Success events (answers 503 to them) and takes every
 * other event at once: a successful execution keeps retrying its last hook for the drain, as it does when core is busy.
 */
async function receiverRefusingSuccess(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: string };
      res.writeHead(event.status === 'Success' ? 503 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('pause_after_failures counts failures in a row: a success still handing its hooks over ends the streak', () => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof receiverRefusingSuccess>>;
  const schedules: string[] = [];
  before(async () => {
    receiver = await receiverRefusingSuccess();
    h = await createHarness({
      config: testConfig({
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200, hook_drain_ms: 60_000 },
      }),
    });
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
    await receiver.close();
  });

  const execution = (id: string, at: string) => `${id}-${at}`;
  const stats = async (id: string) => {
    const response = await h.request('GET', `/api/v1/jobs/${id}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { job: JobStats }).job;
  };
  /** An operator's backfill of one past fire (as `temporal schedule backfill` runs it). */
  const backfill = (id: string, at: string) =>
    h.client.schedule.getHandle(id).backfill({ start: new Date(at), end: new Date(Date.parse(at) + 500), overlap: 'ALLOW_ALL' });

  it('a success between two failures ends the streak even while the successful execution still hands over its hooks', async () => {
    // TEST_FLIP fails on odd seconds of its fire time and succeeds on even ones.
    const job = await h.submit({
      name: 'TEST_FLIP',
      parameters: {},
      status_hook: receiver.url,
      // Fires only at 00:00:01-03 on New Year's Day: the operator's backfills run those fires of the past year.
      metadata: { kind: 'Periodic', cron_spec: '1-3 0 0 1 1 *', pause_after_failures: 2 },
    });
    schedules.push(job.id);
    const [f1, s2, f3] = ['2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z'];

    await backfill(job.id, f1);
    await waitFor(
      async () => (await h.client.workflow.getHandle(execution(job.id, f1)).describe()).status.name,
      (s) => s === 'FAILED',
      { what: 'the first fire to fail and close' },
    );
    await backfill(job.id, s2);
    await waitFor(
      () => h.stats(execution(job.id, s2)),
      (s) => s.status === 'Success',
      { what: 'the second fire to succeed' },
    );
    await backfill(job.id, f3);
    await waitFor(
      async () => (await h.client.workflow.getHandle(execution(job.id, f3)).describe()).status.name,
      (s) => s === 'FAILED',
      { what: 'the third fire to fail and close' },
    );
    const after = await stats(job.id);
    const s2Stats = await h.stats(execution(job.id, s2));
    // Failed, succeeded, failed: one failure in a row, not two. The job must not be paused for failures.
    assert.deepEqual(
      {
        s2: s2Stats.status,
        paused: after.paused,
        consecutive_failures: after.consecutive_failures,
        paused_note: after.paused_note ?? null,
      },
      { s2: 'Success', paused: false, consecutive_failures: 1, paused_note: null },
    );
  });
});
