import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { HookEvent } from '../../src/shared/hook-event.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Harbor's tracker fires a hook on every status change of every run: Run() → Running before the
 * job's code, Fail() → Error when a run fails (before gocraft's retry resets it to Pending under a
 * new revision). docs/architecture.md: "on every status change (`Running`, then one of `Success`,
 * `Error`, `Stopped`, `Cancelled`)".
 */
describe('a hook for every status change Harbor would send', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
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
  const shown = (events: HookEvent[]) => events.map((e) => `${e.status}@${e.metadata.revision}${e.check_in ? '(ci)' : ''}`).join(', ');
  const finalHook = (hookPath: string) =>
    waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => ['Success', 'Error', 'Stopped'].includes(x.status)),
      { what: 'the final hook', timeoutMs: 30_000 },
    );

  /** A NOOP with `parameters` and a status hook: the statuses its receiver got once the job has closed. */
  const noopHookStatuses = async (parameters: Record<string, unknown>) => {
    const hookPath = path();
    const job = await h.submit({ name: 'NOOP', parameters, status_hook: receiver.url(hookPath), metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'])).status, 'Success');
    await finalHook(hookPath);
    // Nothing else is on its way: the job's workflow has closed with its outbox drained.
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.status.name !== 'RUNNING',
      { what: 'the job to close' },
    );
    return { statuses: receiver.accepted(hookPath).map((e) => e.status), got: shown(receiver.accepted(hookPath)) };
  };

  it('a job that ends within running_report_delay_ms (a NOOP of 50 ms) posts Running before Success', async () => {
    const { statuses, got } = await noopHookStatuses({ duration_ms: 50 });
    assert.deepEqual(statuses, ['Running', 'Success'], `got: ${got}`);
  });

  it('a short job (a NOOP that does not wait) posts Running before Success', async () => {
    const { statuses, got } = await noopHookStatuses({});
    assert.deepEqual(statuses, ['Running', 'Success'], `got: ${got}`);
  });

  it('a job retried after failed runs posts Running and Error for each of its runs (revisions), as Harbor does', async () => {
    const hookPath = path();
    // DEMO: maxFails 3; each run checks in (so it reports Running) and then fails.
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-retry-hooks', step_ms: 300, hold_ms: 0, fail: true },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Error', 'Success'], 60_000);
    assert.equal(done.status, 'Error');
    assert.equal(done.fails, 3);
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Error' && x.metadata.revision === done.revision),
      { what: 'the last Error hook', timeoutMs: 30_000 },
    );
    const statusEvents = events.filter((e) => e.check_in === undefined);
    const revisions = [...new Set(events.map((e) => e.metadata.revision))];
    assert.equal(revisions.length, 3, `three runs, three revisions: ${shown(events)}`);
    for (const revision of revisions) {
      const ofRun = statusEvents.filter((e) => e.metadata.revision === revision).map((e) => e.status);
      assert.deepEqual(ofRun, ['Running', 'Error'], `revision ${revision}: ${shown(events)}`);
    }
  });
});

/**
 * A run stopped before its Running report (within job.running_report_delay_ms, without a check-in)
 * ends through the `op` outcome: its code ran, so Running goes out before Stopped.
 */
describe('a run stopped before it reported Running', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: { running_report_delay_ms: 60_000, hook_retry_initial_ms: 100, hook_retry_max_seconds: 1, hook_drain_ms: 1000 },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('posts Running before Stopped: its code ran', async () => {
    const hookPath = 'stopped-early';
    const job = await h.submit({
      name: 'NOOP',
      parameters: { duration_ms: 30_000 },
      status_hook: receiver.url(hookPath),
      metadata: { kind: 'Generic' },
    });
    // The job's code has started: its log says so.
    const logPath = join(h.logDir, `${job.id}.log`);
    await waitFor(
      async () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
      (text) => /run of NOOP started/.test(text),
      { what: 'the run to start (its log)' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    assert.equal((await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 30_000)).status, 'Stopped');
    await waitFor(
      () => h.client.workflow.getHandle(job.id).describe(),
      (d) => d.status.name !== 'RUNNING',
      { timeoutMs: 30_000, what: 'the job to close (its hooks drained)' },
    );
    const events = await waitFor(
      async () => receiver.accepted(hookPath),
      (e) => e.some((x) => x.status === 'Stopped'),
      { what: 'the Stopped hook' },
    );
    assert.deepEqual(
      events.map((e) => `${e.status}${e.check_in !== undefined ? '(ci)' : ''}`),
      ['Running', 'Stopped'],
    );
  });
});
