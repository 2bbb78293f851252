import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

interface Suite {
  h: Harness;
  hooks: HookReceiver;
  /** A WEBHOOK with a status hook to a receiver that answers after `delayMs`, once its POST is there. */
  posting(path: string, delayMs: number): Promise<string>;
}

/** A harness whose WEBHOOK has this HTTP timeout (core's JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT), with a core and a slow receiver. */
function webhookSuite(timeoutSeconds: string | undefined): Suite {
  let raw: RawReceiver;
  const suite = {} as Suite;
  before(async () => {
    const settings =
      timeoutSeconds === undefined ? undefined : notificationSettings({ JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT: timeoutSeconds });
    suite.h = await createHarness(settings ? { registry: testRegistry(undefined, { ...settings, retryInitialMs: 200 }) } : {});
    suite.hooks = await startHookReceiver();
    raw = await startRawReceiver();
  });
  after(async () => {
    await suite.h.close();
    await suite.hooks.close();
    await raw.close();
  });
  suite.posting = async (path, delayMs) => {
    raw.setDelayMs(delayMs);
    const job = await suite.h.submit({
      name: 'WEBHOOK',
      parameters: { address: raw.url(path), payload: '{"type":"PUSH_ARTIFACT"}' },
      metadata: { kind: 'Generic' },
      status_hook: suite.hooks.url(path),
    });
    await waitFor(
      async () => raw.requests(path).length,
      (n) => n === 1,
      { what: 'the POST at the receiver' },
    );
    return job.id;
  };
  return suite;
}

/**
 * Harbor core sets JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT (here 30 s, a value operators raise it
 * to for slow receivers). In Harbor the WEBHOOK job is Running (hook `Running`) as soon as a worker
 * takes it (runner/redis.go: tracker.Run() before job.Run), and a stop marks it Stopped at once
 * (c_worker.go StopJob → tracker.Stop()). WEBHOOK ran as a short job (a local activity) under any
 * timeout, so it read Pending until the POST returned and a stop waited for it.
 */
describe('WEBHOOK while its POST waits on a slow receiver (HTTP timeout 30 s)', () => {
  const s = webhookSuite('30');

  it('reads Running while the POST is in flight, posts Running to core, and a stop ends it Stopped within a few seconds', async () => {
    const id = await s.posting('slow', 15_000);
    // Running and its hook go out within the running-report delay (200 ms).
    const during = (await s.h.waitForStatus(id, ['Running', 'Success', 'Error', 'Stopped'], 10_000)).status;
    const stopAt = Date.now();
    assert.equal((await s.h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    const final = (await s.h.waitForStatus(id, ['Stopped', 'Success', 'Error'], 25_000)).status;
    const tookMs = Date.now() - stopAt;
    const events = await waitFor(
      async () => s.hooks.accepted('slow').map((e) => e.status),
      (statuses) => statuses.length >= 2,
      { what: 'its Running and final hooks' },
    );
    assert.deepEqual(
      { during, final, stopTookUnder5s: tookMs < 5_000, hooks: events },
      { during: 'Running', final: 'Stopped', stopTookUnder5s: true, hooks: ['Running', 'Stopped'] },
      `stop took ${tookMs} ms`,
    );
  });
});

/**
 * The same with Harbor's default 3 s timeout (a short job): a receiver answering in 2.5 s, stopped
 * while the POST is out. The job ended Success: with a status hook, the workflow task holding the
 * run did not end the job, so the server took it with the stop waiting.
 */
describe('WEBHOOK stopped while its POST is in flight (default 3 s timeout)', () => {
  const s = webhookSuite(undefined);

  it('a stop answered 204 during the POST ends the job Stopped (Harbor: Stopped at once, the runner leaves it)', async () => {
    const id = await s.posting('inflight', 2_500);
    assert.equal((await s.h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    const done = await s.h.waitForStatus(id, ['Stopped', 'Success', 'Error'], 30_000);
    const events = await waitFor(
      async () => s.hooks.accepted('inflight').map((e) => e.status),
      (statuses) => statuses.some((status) => status !== 'Running'),
      { what: 'its final hook' },
    );
    assert.deepEqual({ status: done.status, lastHook: events.at(-1) }, { status: 'Stopped', lastHook: 'Stopped' }, JSON.stringify(events));
  });
});
