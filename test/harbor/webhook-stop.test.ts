import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Harbor core sets JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT (here 30 s, a value operators raise it
 * to for slow receivers). In Harbor the WEBHOOK job is Running (hook `Running`) as soon as a worker
 * takes it (runner/redis.go: tracker.Run() before job.Run), and a stop marks it Stopped at once
 * (c_worker.go StopJob → tracker.Stop()). WEBHOOK ran as a short job (a local activity) under any
 * timeout, so it read Pending until the POST returned and a stop waited for it.
 */
describe('WEBHOOK while its POST waits on a slow receiver (HTTP timeout 30 s)', () => {
  let h: Harness;
  let hooks: HookReceiver;
  let raw: RawReceiver;
  before(async () => {
    h = await createHarness({
      registry: testRegistry(undefined, {
        ...notificationSettings({ JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT: '30' }),
        retryInitialMs: 200,
      }),
    });
    hooks = await startHookReceiver();
    raw = await startRawReceiver();
  });
  after(async () => {
    await h.close();
    await hooks.close();
    await raw.close();
  });

  it('reads Running while the POST is in flight, posts Running to core, and a stop ends it Stopped within a few seconds', async () => {
    raw.setDelayMs(15_000);
    try {
      const job = await h.submit({
        name: 'WEBHOOK',
        parameters: { address: raw.url('slow'), payload: '{"type":"PUSH_ARTIFACT"}' },
        metadata: { kind: 'Generic' },
        status_hook: hooks.url('slow'),
      });
      await waitFor(
        async () => raw.requests('slow').length,
        (n) => n === 1,
        { what: 'the POST at the receiver' },
      );
      // Running and its hook go out within the running-report delay (200 ms).
      const during = (await h.waitForStatus(job.id, ['Running', 'Success', 'Error', 'Stopped'], 10_000)).status;
      const stopAt = Date.now();
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const final = (await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 25_000)).status;
      const tookMs = Date.now() - stopAt;
      const events = await waitFor(
        async () => hooks.accepted('slow').map((e) => e.status),
        (statuses) => statuses.length >= 2,
        { what: 'its Running and final hooks' },
      );
      assert.deepEqual(
        { during, final, stopTookUnder5s: tookMs < 5_000, hooks: events },
        { during: 'Running', final: 'Stopped', stopTookUnder5s: true, hooks: ['Running', 'Stopped'] },
        `stop took ${tookMs} ms`,
      );
    } finally {
      raw.setDelayMs(0);
    }
  });
});

/**
 * The same with Harbor's default 3 s timeout (a short job): a receiver answering in 2.5 s, stopped
 * 1 s into the POST. The job ended Success: with a status hook, the workflow task holding the run
 * did not end the job, so the server took it with the stop waiting.
 */
describe('WEBHOOK stopped while its POST is in flight (default 3 s timeout)', () => {
  let h: Harness;
  let hooks: HookReceiver;
  let raw: RawReceiver;
  before(async () => {
    h = await createHarness();
    hooks = await startHookReceiver();
    raw = await startRawReceiver();
  });
  after(async () => {
    await h.close();
    await hooks.close();
    await raw.close();
  });

  it('a stop answered 204 during the POST ends the job Stopped (Harbor: Stopped at once, the runner leaves it)', async () => {
    raw.setDelayMs(2_500);
    try {
      const job = await h.submit({
        name: 'WEBHOOK',
        parameters: { address: raw.url('inflight'), payload: '{"type":"PUSH_ARTIFACT"}' },
        metadata: { kind: 'Generic' },
        status_hook: hooks.url('inflight'),
      });
      await waitFor(
        async () => raw.requests('inflight').length,
        (n) => n === 1,
        { what: 'the POST at the receiver' },
      );
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const done = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 30_000);
      const events = await waitFor(
        async () => hooks.accepted('inflight').map((e) => e.status),
        (statuses) => statuses.some((s) => s !== 'Running'),
        { what: 'its final hook' },
      );
      assert.deepEqual(
        { status: done.status, lastHook: events.at(-1) },
        { status: 'Stopped', lastHook: 'Stopped' },
        JSON.stringify(events),
      );
    } finally {
      raw.setDelayMs(0);
    }
  });
});
